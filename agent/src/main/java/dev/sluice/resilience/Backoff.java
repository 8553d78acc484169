package dev.sluice.resilience;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * {@code delay(n) = random(0, min(cap, base * 2^(n-1)))} for attempt {@code n >= 1}. Jitter spreads
 * the retries of many segments (and many agents) so a recovering database is not hit all at once.
 */
public final class Backoff {
  private final long baseMs;
  private final long capMs;
  private final DoubleSupplier random;

  public Backoff(Duration base, Duration cap, DoubleSupplier random) {
    this.baseMs = base.toMillis();
    this.capMs = cap.toMillis();
    this.random = random;
  }

  /** The upper bound of the delay before retry {@code attempt} (1-based). */
  public long ceilingMs(int attempt) {
    int shift = Math.min(Math.max(attempt - 1, 0), 40);
    double exp = baseMs * Math.pow(2, shift);
    return (long) Math.min(capMs, exp);
  }

  public long delayMs(int attempt) {
    return (long) (random.getAsDouble() * ceilingMs(attempt));
  }
}
