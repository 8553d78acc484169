package dev.sluice.pace;

import java.util.function.LongSupplier;

/**
 * A token bucket in the reservation style: {@link #reserve(long)} takes tokens now, possibly going
 * into debt, and says how long the caller must wait before using them. Batches larger than the
 * burst are therefore fine; they just wait longer. {@code rate} is tokens (rows) per second.
 *
 * <p>{@link #setRate(double)} takes effect immediately and never creates a burst: tokens accrued so
 * far are settled at the old rate, and the balance is capped at the (possibly new) burst size.
 * Pure: time comes from the injected nano clock; not thread-safe (used from one event loop).
 */
public final class TokenBucket {
  private final LongSupplier nanoClock;
  private double rate;
  private double burst;
  private double tokens;
  private long last;

  public TokenBucket(double ratePerSecond, double burst, LongSupplier nanoClock) {
    if (!(ratePerSecond > 0) || !(burst > 0)) throw new IllegalArgumentException("rate and burst must be > 0");
    this.nanoClock = nanoClock;
    this.rate = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.last = nanoClock.getAsLong();
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    if (now > last) {
      tokens = Math.min(burst, tokens + (now - last) * rate / 1e9);
      last = now;
    }
  }

  /** Takes {@code n} tokens; returns the nanoseconds to wait before acting (0 if available now). */
  public long reserve(long n) {
    refill();
    tokens -= n;
    if (tokens >= 0) return 0;
    return (long) Math.ceil(-tokens / rate * 1e9);
  }

  /** Gives back tokens reserved but not used (a batch that turned out smaller). */
  public void refund(long n) {
    refill();
    tokens = Math.min(burst, tokens + n);
  }

  public void setRate(double ratePerSecond) {
    if (!(ratePerSecond > 0)) throw new IllegalArgumentException("rate must be > 0");
    refill();
    rate = ratePerSecond;
  }

  public void setBurst(double burst) {
    if (!(burst > 0)) throw new IllegalArgumentException("burst must be > 0");
    refill();
    this.burst = burst;
    tokens = Math.min(tokens, burst);
  }

  public double rate() {
    return rate;
  }

  public double burst() {
    return burst;
  }

  /** Current balance (negative while in debt). */
  public double available() {
    refill();
    return tokens;
  }
}
