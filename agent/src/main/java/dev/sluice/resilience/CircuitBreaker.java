package dev.sluice.resilience;

/**
 * A circuit breaker for one database. Closed: work flows and consecutive connection-class failures
 * are counted. After {@code threshold} of them it opens: work stops (the job pauses with "source
 * unavailable" or "target unavailable") and no more load is sent to a database that is down. After
 * the open interval it is half-open: one probe is allowed; success closes it, failure re-opens it
 * with the interval doubled up to {@code maxOpen}. Pure: time comes in as an argument.
 */
public final class CircuitBreaker {
  public enum State { CLOSED, OPEN, HALF_OPEN }

  private final int threshold;
  private final long baseOpenNanos;
  private final long maxOpenNanos;
  private int failures;
  private boolean open;
  private long openedAt;
  private long openNanos;
  private String lastError;

  public CircuitBreaker(int threshold, long openNanos, long maxOpenNanos) {
    if (threshold < 1) throw new IllegalArgumentException("threshold must be >= 1");
    this.threshold = threshold;
    this.baseOpenNanos = openNanos;
    this.maxOpenNanos = Math.max(openNanos, maxOpenNanos);
    this.openNanos = openNanos;
  }

  public State state(long now) {
    if (!open) return State.CLOSED;
    return now - openedAt >= openNanos ? State.HALF_OPEN : State.OPEN;
  }

  public void onSuccess() {
    failures = 0;
    open = false;
    openNanos = baseOpenNanos;
  }

  /** Records a failure; returns true when this failure opened (or re-opened) the breaker. */
  public boolean onFailure(String error, long now) {
    lastError = error;
    if (open) {
      if (state(now) == State.HALF_OPEN) {
        // The half-open probe failed: wait longer before the next one.
        openNanos = Math.min(maxOpenNanos, openNanos * 2);
        openedAt = now;
      }
      return false;
    }
    if (++failures < threshold) return false;
    open = true;
    openedAt = now;
    return true;
  }

  public String lastError() {
    return lastError;
  }

  public int failures() {
    return failures;
  }
}
