package dev.sluice.pace;

import java.time.Duration;

/**
 * Sizes batches so each write takes about {@code target} (pt-online-schema-change's
 * {@code --chunk-time}): long enough to amortise round trips, short enough that no single statement
 * holds locks or a connection for long.
 *
 * <p>After each batch, the observed throughput {@code r = rows / seconds} gives the ideal size
 * {@code r * target}. The size moves toward it by {@code ALPHA = }{@value #ALPHA} of the gap (an
 * exponential moving average, so one slow batch does not halve the next), is never more than doubled
 * or halved in one step, and stays within {@code [min, max]}. When the job is paced at {@code R}
 * rows/s, the size is also capped at {@code R * target}, so one batch is never a burst of several
 * seconds' budget. Pure; callers synchronise.
 */
public final class BatchSizer {
  static final double ALPHA = 0.3;

  private final int min;
  private final int max;
  private final double targetSeconds;
  private double size;
  private Double rateCap;

  public BatchSizer(int min, int max, int initial, Duration target) {
    if (min < 1 || max < min) throw new IllegalArgumentException("need 1 <= min <= max (got " + min + ", " + max + ")");
    this.min = min;
    this.max = max;
    this.targetSeconds = target.toNanos() / 1e9;
    this.size = Math.max(min, Math.min(max, initial));
  }

  /** Records a batch of {@code rows} that took {@code nanos} to write. */
  public void onBatch(long rows, long nanos) {
    if (rows <= 0 || nanos <= 0) return;
    double ideal = rows / (nanos / 1e9) * targetSeconds;
    ideal = Math.max(size / 2, Math.min(size * 2, ideal));
    size = Math.max(min, Math.min(max, size + ALPHA * (ideal - size)));
  }

  /** The job's current rate (rows/s), or null when unpaced. */
  public void rate(Double rowsPerSecond) {
    this.rateCap = rowsPerSecond;
  }

  /** The next batch's size in rows. */
  public int size() {
    double s = size;
    if (rateCap != null) s = Math.min(s, Math.max(1, rateCap * targetSeconds));
    return (int) Math.max(min, Math.min(max, Math.round(s)));
  }
}
