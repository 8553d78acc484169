package dev.sluice.metrics;

import java.util.function.LongSupplier;

/**
 * A per-second rate of a count that only grows (keys applied), from two readings at least a window
 * apart: each read after the window has passed moves the older reading up. Pure but for the clock it
 * is given; thread-safe (read by the metrics scrape and the live view).
 */
final class RateMeter {
  private final LongSupplier nanos;
  private final long windowNanos;
  private long fromNanos = Long.MIN_VALUE;
  private long fromCount;
  private double rate = Double.NaN;

  RateMeter(LongSupplier nanos, long windowNanos) {
    this.nanos = nanos;
    this.windowNanos = windowNanos;
  }

  /** The rate over the latest full window up to now, given the count now; NaN until one window has passed. */
  synchronized double perSecond(long count) {
    long now = nanos.getAsLong();
    if (fromNanos == Long.MIN_VALUE || count < fromCount) {
      fromNanos = now; // the first reading, or the count started over (another applier took the job): no rate across it
      fromCount = count;
      rate = Double.NaN;
      return rate;
    }
    long span = now - fromNanos;
    if (span >= windowNanos) {
      rate = (count - fromCount) * 1e9 / span;
      fromNanos = now;
      fromCount = count;
    }
    return rate;
  }
}
