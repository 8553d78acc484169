package dev.sluice.pace;

import dev.sluice.config.JobConfig;
import io.vertx.core.Vertx;
import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;

/**
 * One job's pace on this agent: the rate (the configured or operator-set base rate times the
 * headroom factor from the {@link Throttler}), the adaptive concurrency limit and the batch size,
 * fed by every batch's write latency. Thread-safe: segments run on several event loops.
 *
 * <p>Below full headroom the concurrency ceiling falls too: {@code max(min, floor(limit * factor))}
 * segments in flight. An unpaced job has no rate to scale, so it is paced at {@code factor x} its
 * own full rate: the most rows per second it moved over a {@value #METER_MS} ms window at full
 * headroom, or, before it has one, the path's guess ({@link #assumeFullRate}) or else
 * {@code concurrency.max x batch.rows / batch.targetMs} (the rate the batch sizer aims for).
 */
public final class AdaptivePace {
  static final long METER_MS = 1000;
  static final double FULL = 0.999;

  private final ToIntFunction<JobConfig> maxOf;
  private final Pacer pacer;
  private final LongSupplier clock;
  private ConcurrencyLimit limit;
  private BatchSizer sizer;
  private JobConfig job;
  private long burstRows;
  private Double baseRate;
  private double factor = 1.0;
  private String factorReason;
  private double fullRate = Double.NaN;
  private double fullRateGuess = Double.NaN;
  private long meterStart = Long.MIN_VALUE;
  private long meterRows;
  private boolean meterFull = true;

  public AdaptivePace(Vertx vertx, JobConfig job, LongSupplier clock) {
    this(vertx, job, clock, JobConfig::concurrencyMax);
  }

  /** {@code maxOf}: the most segments in flight a job config allows on the job's path (the COPY path's default differs). */
  public AdaptivePace(Vertx vertx, JobConfig job, LongSupplier clock, ToIntFunction<JobConfig> maxOf) {
    this.maxOf = maxOf;
    this.job = job;
    this.clock = clock;
    JobConfig.Pacing p = job.pacing();
    this.baseRate = job.pace().rowsPerSecond();
    this.burstRows = job.pace().burstRows();
    this.pacer = new Pacer(vertx, baseRate, burstRows, clock);
    this.limit = new ConcurrencyLimit(p.concurrencyMin(), maxOf.applyAsInt(job));
    this.sizer = new BatchSizer(p.batchMinRows(), p.batchMaxRows(), job.batchRows(), p.batchTarget());
    sizer.rate(baseRate);
  }

  /** A reloaded config: new bounds for concurrency and batch size take effect at once (rates come through the budget). */
  public synchronized void reconfigure(JobConfig next) {
    JobConfig.Pacing p = next.pacing();
    if (p.concurrencyMin() != job.pacing().concurrencyMin() || maxOf.applyAsInt(next) != maxOf.applyAsInt(job)) {
      limit = new ConcurrencyLimit(p.concurrencyMin(), maxOf.applyAsInt(next));
    }
    if (p.batchMinRows() != job.pacing().batchMinRows() || p.batchMaxRows() != job.pacing().batchMaxRows()
        || !p.batchTarget().equals(job.pacing().batchTarget()) || next.batchRows() != job.batchRows()) {
      sizer = new BatchSizer(p.batchMinRows(), p.batchMaxRows(), next.batchRows(), p.batchTarget());
      apply();
    }
    job = next;
  }

  /**
   * What the job's path moves at full speed before it has measured it ({@code rowsPerSecond}), in
   * place of the batch sizer's aim: the COPY path streams whole segments, so its batches say nothing
   * of its rate (measured: 50-100k narrow rows/s a stream against the 40k rows/s the batch settings
   * suggest for two streams), and a job started while the database's users are busy was paced at a
   * fraction of a rate far below its own.
   */
  public synchronized void assumeFullRate(double rowsPerSecond) {
    fullRateGuess = rowsPerSecond;
    apply();
  }

  public Pacer pacer() {
    return pacer;
  }

  /** Segments this job may have in flight on this agent now. */
  public synchronized int concurrency() {
    int l = limit.limit();
    if (factor < FULL) l = Math.max(limit.min(), (int) Math.floor(l * factor));
    return l;
  }

  public synchronized int batchRows() {
    return sizer.size();
  }

  /** A batch of {@code rows} was written in {@code nanos}. */
  public synchronized void onBatch(long rows, long nanos) {
    limit.onSample(nanos, rows);
    sizer.onBatch(rows, nanos);
    meter(rows);
  }

  /** Learns the job's full rate: rows per second over windows spent entirely at full headroom. */
  private void meter(long rows) {
    long now = clock.getAsLong();
    if (meterStart == Long.MIN_VALUE) {
      restartMeter(now);
      return; // the first batch's rows were written before any window began
    }
    meterRows += rows;
    long span = now - meterStart;
    if (span < METER_MS * 1_000_000L) return;
    if (meterFull && baseRate == null) {
      double rate = meterRows * 1e9 / span;
      if (Double.isNaN(fullRate) || rate > fullRate) fullRate = rate;
    }
    restartMeter(now);
  }

  private void restartMeter(long now) {
    meterStart = now;
    meterRows = 0;
    meterFull = factor >= FULL;
  }

  /** This job's full (unpaced) rate as measured, NaN before a window at full headroom. */
  public synchronized double fullRate() {
    return fullRate;
  }

  /** A batch failed with a transient error. */
  public synchronized void onDrop() {
    limit.onDrop();
  }

  /** Sets the base rate live (this agent's share of the job's budget); {@code null} removes the limit. */
  public synchronized void setBaseRate(Double rowsPerSecond, long burst) {
    baseRate = rowsPerSecond;
    burstRows = Math.max(1, burst);
    apply();
  }

  public synchronized Double baseRate() {
    return baseRate;
  }

  /** Applies the throttler's headroom factor (0..1] to the base rate; {@code reason} says why it is below 1. */
  public synchronized void headroom(double f, String reason) {
    factorReason = f < FULL ? reason : null;
    if (Math.abs(f - factor) < 1e-3) return;
    factor = f;
    if (f < FULL) meterFull = false;
    apply();
  }

  public synchronized double factor() {
    return factor;
  }

  /** Why the rate factor is below 1 (a sentence for the operator), or null at full speed. */
  public synchronized String factorReason() {
    return factorReason;
  }

  private void apply() {
    Double base = baseRate;
    if (base == null && factor < FULL) {
      base = !Double.isNaN(fullRate) ? fullRate
          : !Double.isNaN(fullRateGuess) ? fullRateGuess
          : maxOf.applyAsInt(job) * job.batchRows() * 1000.0 / job.pacing().batchTarget().toMillis();
    }
    Double effective = base == null ? null : Math.max(1e-3, base * factor);
    long burst = effective == null ? burstRows : Math.max(1, Math.min(burstRows, (long) Math.ceil(effective)));
    pacer.setRate(effective, burst);
    sizer.rate(effective);
  }
}
