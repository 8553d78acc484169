package dev.sluice.metrics;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Estimates when a job finishes, as a range rather than one number, from the job's rate (rows per
 * second summed over every agent working on it) sampled over the last {@value #WINDOW_SECONDS} s:
 *
 * <pre>
 *   eta  = remaining / mean(rate)
 *   low  = remaining / max(rate)      (if the best second of the last minute lasted)
 *   high = remaining / min(rate > 0)  (if the worst one did)
 * </pre>
 *
 * Pauses and throttling widen the range by themselves. Unknown (NaN) until {@value #MIN_SECONDS} s
 * of samples with progress; nothing remaining gives 0. Pure: the caller passes the time.
 */
public final class Eta {
  static final int WINDOW_SECONDS = 60;
  static final int MIN_SECONDS = 5;
  private static final long WINDOW_NANOS = WINDOW_SECONDS * 1_000_000_000L;
  private final Deque<double[]> samples = new ArrayDeque<>();

  /** ETA in seconds and its range; NaN where unknown. */
  public record Range(double seconds, double low, double high) {
    public static final Range UNKNOWN = new Range(Double.NaN, Double.NaN, Double.NaN);
    static final Range DONE = new Range(0, 0, 0);

    public boolean known() {
      return !Double.isNaN(seconds);
    }
  }

  /** Records the job's rate at {@code nanos} and returns the estimate for {@code remaining} rows. */
  public synchronized Range update(long nanos, double rowsPerSecond, long remaining) {
    samples.addLast(new double[] {nanos, Math.max(0, rowsPerSecond)});
    while (samples.size() > 2 && nanos - samples.peekFirst()[0] > WINDOW_NANOS) samples.removeFirst();
    if (remaining <= 0) return Range.DONE;
    if ((nanos - samples.peekFirst()[0]) / 1e9 < MIN_SECONDS) return Range.UNKNOWN;
    double sum = 0;
    double max = 0;
    double min = Double.MAX_VALUE;
    for (double[] s : samples) {
      sum += s[1];
      max = Math.max(max, s[1]);
      if (s[1] > 0) min = Math.min(min, s[1]);
    }
    double mean = sum / samples.size();
    if (mean <= 0) return Range.UNKNOWN;
    return new Range(remaining / mean, remaining / max, remaining / min);
  }
}
