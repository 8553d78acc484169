package dev.sluice.ledger;

/** The ledger refused a write because this agent no longer holds the segment's lease (fencing). */
public final class LeaseLostException extends RuntimeException {
  public LeaseLostException(String job, int seq, long epoch) {
    super("lease on segment " + seq + " of job " + job + " (epoch " + epoch + ") is no longer held by this agent");
  }
}
