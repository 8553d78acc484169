package dev.sluice.cache;

/**
 * The share of key cohorts a job serves from the target, as configured or set live, and whether
 * shadow mode paused it (effective share 0 until someone sets a share again). Thread-safe.
 */
public final class Rollout {
  private int targetPercent;
  private String pausedReason;
  private int mismatches;

  public Rollout(int targetPercent) {
    this.targetPercent = check(targetPercent);
  }

  private static int check(int p) {
    if (p < 0 || p > 100) throw new IllegalArgumentException("targetPercent must be between 0 and 100 (got " + p + ")");
    return p;
  }

  /** Sets the share (hot reload or the control API); this also ends a pause. */
  public synchronized void setTargetPercent(int p) {
    targetPercent = check(p);
    pausedReason = null;
    mismatches = 0;
  }

  /** Counts a confirmed shadow mismatch; returns the count since the share was last set. */
  public synchronized int mismatch() {
    return ++mismatches;
  }

  /** Sends every read to the source until a share is set again; false when already paused. */
  public synchronized boolean pause(String reason) {
    if (pausedReason != null) return false;
    pausedReason = reason;
    return true;
  }

  public synchronized int targetPercent() {
    return targetPercent;
  }

  public synchronized int effectivePercent() {
    return pausedReason == null ? targetPercent : 0;
  }

  public synchronized String pausedReason() {
    return pausedReason;
  }

  /** True when a key of this cohort is served from the target (if its segment is verified). */
  public boolean toTarget(int cohort) {
    return cohort < effectivePercent();
  }
}
