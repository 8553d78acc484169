package dev.sluice.pace;

/**
 * How many segments of a job may be in flight: an AIMD limit on write latency, in the style of
 * Netflix concurrency-limits' {@code AIMDLimit} with a latency floor as in {@code VegasLimit}.
 *
 * <p>Each sample is a batch write's latency per row ({@code nanos / rows}), so batches of different
 * sizes compare. Samples are smoothed, {@code x = x + SMOOTHING * (sample - x)}, so one slow batch
 * on a busy host is not a trend. The floor is the lowest smoothed latency seen, drifting toward the
 * current one by {@value #FLOOR_DRIFT} of the gap per sample, so a lasting change of regime is
 * learnt. Then, per sample:
 *
 * <pre>
 *   x <= floor * TOLERANCE  ->  limit += 1 / limit        (about +1 per round of `limit` batches)
 *   x >  floor * TOLERANCE  ->  limit *= BACKOFF          (multiplicative decrease)
 *   a dropped sample (timeout, transient error) -> limit *= BACKOFF
 * </pre>
 *
 * with {@code SMOOTHING = }{@value #SMOOTHING}, {@code TOLERANCE = }{@value #TOLERANCE} and
 * {@code BACKOFF = }{@value #BACKOFF}, the limit
 * kept within {@code [min, max]}. It starts at {@code min}: the agent earns its concurrency.
 * Pure: no clock, no threads; callers synchronise.
 */
public final class ConcurrencyLimit {
  static final double SMOOTHING = 0.3;
  static final double TOLERANCE = 2.0;
  static final double BACKOFF = 0.8;
  static final double FLOOR_DRIFT = 0.01;

  private final int min;
  private final int max;
  private double limit;
  private double floor = Double.NaN;
  private double smoothed = Double.NaN;

  public ConcurrencyLimit(int min, int max) {
    if (min < 1 || max < min) throw new IllegalArgumentException("need 1 <= min <= max (got " + min + ", " + max + ")");
    this.min = min;
    this.max = max;
    this.limit = min;
  }

  /** Records one batch: {@code rows} written in {@code nanos}. */
  public void onSample(long nanos, long rows) {
    if (rows <= 0 || nanos <= 0) return;
    double sample = (double) nanos / rows;
    smoothed = Double.isNaN(smoothed) ? sample : smoothed + SMOOTHING * (sample - smoothed);
    double x = smoothed;
    if (Double.isNaN(floor) || x < floor) {
      floor = x;
    } else {
      floor += (x - floor) * FLOOR_DRIFT;
    }
    if (x <= floor * TOLERANCE) {
      limit = Math.min(max, limit + 1.0 / limit);
    } else {
      limit = Math.max(min, limit * BACKOFF);
    }
  }

  /** Records a batch that failed with a transient error or timed out. */
  public void onDrop() {
    limit = Math.max(min, limit * BACKOFF);
  }

  public int limit() {
    return (int) Math.floor(limit);
  }

  public int min() {
    return min;
  }

  public int max() {
    return max;
  }

  /** The latency floor per row, in nanoseconds (NaN before the first sample). */
  public double floorNanosPerRow() {
    return floor;
  }
}
