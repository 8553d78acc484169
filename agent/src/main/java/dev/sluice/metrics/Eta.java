package dev.sluice.metrics;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Estimates when a job finishes, as a range rather than one number. It keeps the job's rows done
 * (from the ledger, so every agent's work counts) over the last {@value #WINDOW_SECONDS} s and
 * splits that window into {@value #SLICES} slices:
 *
 * <pre>
 *   rate      = rows done over the window / window length       -> eta  = remaining / rate
 *   rate_high = fastest slice, rate_low = slowest non-idle slice -> low  = remaining / rate_high,
 *                                                                   high = remaining / rate_low
 * </pre>
 *
 * Rows land a segment at a time, so a single slice is noisy: the range says how noisy. Unknown
 * (NaN) until the window holds 10 s of samples with progress; zero remaining gives 0. Pure: the
 * caller passes the time.
 */
public final class Eta {
  static final int WINDOW_SECONDS = 60;
  static final int SLICES = 6;
  private static final long WINDOW_NANOS = WINDOW_SECONDS * 1_000_000_000L;
  private final Deque<long[]> samples = new ArrayDeque<>();

  /** ETA in seconds and its range; NaN where unknown. */
  public record Range(double seconds, double low, double high) {
    public static final Range UNKNOWN = new Range(Double.NaN, Double.NaN, Double.NaN);
    static final Range DONE = new Range(0, 0, 0);

    public boolean known() {
      return !Double.isNaN(seconds);
    }
  }

  /** Records the rows done at {@code nanos} and returns the estimate for {@code remaining} rows. */
  public synchronized Range update(long nanos, long rowsDone, long remaining) {
    samples.addLast(new long[] {nanos, rowsDone});
    while (samples.size() > 2 && nanos - samples.peekFirst()[0] > WINDOW_NANOS) samples.removeFirst();
    if (remaining <= 0) return Range.DONE;
    long[] first = samples.peekFirst();
    double span = (nanos - first[0]) / 1e9;
    long done = rowsDone - first[1];
    if (span < 10 || done <= 0) return Range.UNKNOWN;
    double rate = done / span;
    double sliceSeconds = span / SLICES;
    double fastest = rate;
    double slowest = rate;
    long[][] arr = samples.toArray(new long[0][]);
    int j = 0;
    for (int s = 0; s < SLICES; s++) {
      long from = first[0] + (long) (s * sliceSeconds * 1e9);
      long to = first[0] + (long) ((s + 1) * sliceSeconds * 1e9);
      while (j < arr.length - 1 && arr[j + 1][0] <= from) j++;
      long startRows = arr[j][1];
      int k = j;
      while (k < arr.length - 1 && arr[k + 1][0] <= to) k++;
      double r = (arr[k][1] - startRows) / sliceSeconds;
      if (r > fastest) fastest = r;
      if (r > 0 && r < slowest) slowest = r;
    }
    return new Range(remaining / rate, remaining / fastest, remaining / slowest);
  }
}
