package dev.sluice.pace;

import dev.sluice.config.JobConfig;
import io.vertx.core.Vertx;

/**
 * One job's pace on this agent: the rate (the configured or operator-set base rate times the
 * headroom factor from the {@link Throttler}), the adaptive concurrency limit and the batch size,
 * fed by every batch's write latency. Thread-safe: segments run on several event loops.
 *
 * <p>With no base rate (unpaced), headroom cannot lower a rate, so it lowers the concurrency
 * ceiling instead: {@code max(min, floor(limit * factor))} segments in flight.
 */
public final class AdaptivePace {
  private final Pacer pacer;
  private ConcurrencyLimit limit;
  private BatchSizer sizer;
  private JobConfig job;
  private long burstRows;
  private Double baseRate;
  private double factor = 1.0;

  public AdaptivePace(Vertx vertx, JobConfig job) {
    this.job = job;
    JobConfig.Pacing p = job.pacing();
    this.baseRate = job.pace().rowsPerSecond();
    this.burstRows = job.pace().burstRows();
    this.pacer = new Pacer(vertx, baseRate, burstRows);
    this.limit = new ConcurrencyLimit(p.concurrencyMin(), job.concurrencyMax());
    this.sizer = new BatchSizer(p.batchMinRows(), p.batchMaxRows(), job.batchRows(), p.batchTarget());
    sizer.rate(baseRate);
  }

  /** A reloaded config: new bounds for concurrency and batch size take effect at once (rates come through the budget). */
  public synchronized void reconfigure(JobConfig next) {
    JobConfig.Pacing p = next.pacing();
    if (p.concurrencyMin() != job.pacing().concurrencyMin() || next.concurrencyMax() != job.concurrencyMax()) {
      limit = new ConcurrencyLimit(p.concurrencyMin(), next.concurrencyMax());
    }
    if (p.batchMinRows() != job.pacing().batchMinRows() || p.batchMaxRows() != job.pacing().batchMaxRows()
        || !p.batchTarget().equals(job.pacing().batchTarget()) || next.batchRows() != job.batchRows()) {
      sizer = new BatchSizer(p.batchMinRows(), p.batchMaxRows(), next.batchRows(), p.batchTarget());
      apply();
    }
    job = next;
  }

  public Pacer pacer() {
    return pacer;
  }

  /** Segments this job may have in flight on this agent now. */
  public synchronized int concurrency() {
    int l = limit.limit();
    if (baseRate == null && factor < 1.0) l = Math.max(limit.min(), (int) Math.floor(l * factor));
    return l;
  }

  public synchronized int batchRows() {
    return sizer.size();
  }

  /** A batch of {@code rows} was written in {@code nanos}. */
  public synchronized void onBatch(long rows, long nanos) {
    limit.onSample(nanos, rows);
    sizer.onBatch(rows, nanos);
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

  /** Applies the throttler's headroom factor (0..1] to the base rate. */
  public synchronized void headroom(double f) {
    if (Math.abs(f - factor) < 1e-3) return;
    factor = f;
    apply();
  }

  public synchronized double factor() {
    return factor;
  }

  private void apply() {
    Double effective = baseRate == null ? null : Math.max(1e-3, baseRate * factor);
    long burst = effective == null ? burstRows : Math.max(1, Math.min(burstRows, (long) Math.ceil(effective)));
    pacer.setRate(effective, burst);
    sizer.rate(effective);
  }
}
