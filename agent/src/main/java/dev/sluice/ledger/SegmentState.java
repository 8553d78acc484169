package dev.sluice.ledger;

/**
 * A segment's life: {@code pending -> copying -> copied -> verified}, or {@code failed} (parked with
 * its error, retried only on request). A segment whose lease expires while copying or copied is
 * claimable again and starts over from copying. A rollback moves every segment to
 * {@code rolling_back}, then to {@code rolled_back} once its range is deleted from the target.
 */
public enum SegmentState {
  PENDING, COPYING, COPIED, VERIFIED, FAILED, ROLLING_BACK, ROLLED_BACK;

  public String db() {
    return name().toLowerCase();
  }

  public static SegmentState of(String s) {
    return valueOf(s.toUpperCase());
  }
}
