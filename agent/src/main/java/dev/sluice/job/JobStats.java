package dev.sluice.job;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** This agent's live figures for one job: rows written, current rate, segments in flight. */
public final class JobStats {
  private static final long WINDOW_NANOS = 10_000_000_000L;
  private final LongSupplier clock;
  private final AtomicLong rows = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong writeNanos = new AtomicLong();
  private final Deque<long[]> samples = new ArrayDeque<>();
  private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
  private static final int MAX_LATENCIES = 10_000;

  public JobStats(LongSupplier nanoClock) {
    this.clock = nanoClock;
  }

  public void rowsWritten(long n) {
    long total = rows.addAndGet(n);
    synchronized (samples) {
      long now = clock.getAsLong();
      samples.addLast(new long[] {now, total});
      while (samples.size() > 2 && now - samples.peekFirst()[0] > WINDOW_NANOS) samples.removeFirst();
    }
  }

  /** A batch (or a server-side segment copy) of {@code rows} rows was written in {@code nanos}. */
  public void batchWritten(long rows, long nanos) {
    rowsWritten(rows);
    writeNanos.addAndGet(Math.max(0, nanos));
    if (latencies.size() < MAX_LATENCIES) latencies.add(nanos);
  }

  /** Batch latencies recorded since the last call (for the dashboard's per-second latency chart). */
  public long[] drainLatencies() {
    long[] out = new long[Math.min(latencies.size(), MAX_LATENCIES)];
    int n = 0;
    for (Long l; n < out.length && (l = latencies.poll()) != null; ) out[n++] = l;
    return n == out.length ? out : java.util.Arrays.copyOf(out, n);
  }

  public long rows() {
    return rows.get();
  }

  /** Rows per second over the last ten seconds. */
  public double rowsPerSecond() {
    synchronized (samples) {
      if (samples.isEmpty()) return 0;
      long now = clock.getAsLong();
      long[] first = samples.peekFirst();
      long[] last = samples.peekLast();
      if (now - last[0] > WINDOW_NANOS) return 0;
      double span = (now - first[0]) / 1e9;
      return span <= 0.5 ? 0 : (last[1] - first[1]) / span;
    }
  }

  /** Time spent writing batches so far, in seconds (the learned week's cost per row). */
  public double writeSeconds() {
    return writeNanos.get() / 1e9;
  }

  public AtomicInteger inFlight() {
    return inFlight;
  }

  public void retried() {
    retries.incrementAndGet();
  }

  public long retries() {
    return retries.get();
  }
}
