package dev.sluice.ledger;

/**
 * A job's life: {@code planning -> copying -> completed}. {@code failed} means every segment is
 * finished but some are parked failed; retrying them puts the job back to copying.
 */
public enum JobState {
  PLANNING, COPYING, COMPLETED, FAILED;

  public String db() {
    return name().toLowerCase();
  }

  public static JobState of(String s) {
    return valueOf(s.toUpperCase());
  }
}
