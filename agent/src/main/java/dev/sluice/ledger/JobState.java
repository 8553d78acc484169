package dev.sluice.ledger;

/**
 * A job's life: {@code planning -> copying -> catching_up -> in_sync -> completed}. With change
 * capture off, copying goes straight to completed. {@code failed} means every segment is finished
 * but some are parked failed; retrying them puts the job back to copying. {@code rolling_back ->
 * rolled_back}: the job's writes are being (or have been) removed from the target. {@code aborted}:
 * the job's error budget was spent; everything written and the ledger are kept, and retrying the
 * failed segments puts it back to copying.
 */
public enum JobState {
  PLANNING, COPYING, CATCHING_UP, IN_SYNC, COMPLETED, FAILED, ABORTED, ROLLING_BACK, ROLLED_BACK;

  public String db() {
    return name().toLowerCase();
  }

  public static JobState of(String s) {
    return valueOf(s.toUpperCase());
  }

  /** Nothing more happens to the job (until an operator retries, or plans it afresh after a rollback). */
  public boolean ended() {
    return this == COMPLETED || this == ABORTED || this == ROLLING_BACK || this == ROLLED_BACK;
  }

  /** States in which the job may still write to the target. */
  public boolean writing() {
    return this == PLANNING || this == COPYING || this == CATCHING_UP || this == IN_SYNC || this == FAILED;
  }
}
