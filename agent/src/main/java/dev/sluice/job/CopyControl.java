package dev.sluice.job;

import dev.sluice.copy.SegmentCopier;
import dev.sluice.pace.AdaptivePace;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * What a segment copy asks of its job, batch by batch: the adaptive batch size; admission through
 * the gate and the pacer; latency feedback to the pace (and proof of life to the breakers); and
 * when to cut the segment, so that the agent never holds a source snapshot for long: when the gate
 * closes mid-segment, or when the copy has run for {@code segment.maxSeconds}.
 */
final class CopyControl implements SegmentCopier.Control {
  private final JobGate gate;
  private final AdaptivePace pace;
  private final SegmentCopier.BatchListener onBatch;
  private final Guards guards;
  private final java.util.function.Supplier<Duration> maxTime;
  private final BooleanSupplier stopping;
  private final java.util.function.LongSupplier nanos;

  CopyControl(JobGate gate, AdaptivePace pace, SegmentCopier.BatchListener onBatch, Guards guards,
      java.util.function.Supplier<Duration> maxTime, BooleanSupplier stopping, java.util.function.LongSupplier nanos) {
    this.nanos = nanos;
    this.gate = gate;
    this.pace = pace;
    this.onBatch = onBatch;
    this.guards = guards;
    this.maxTime = maxTime;
    this.stopping = stopping;
  }

  @Override
  public int batchRows() {
    return pace.batchRows();
  }

  @Override
  public Future<Void> admit(long rows) {
    return gate.whenOpen().compose(v -> pace.pacer().acquire(rows));
  }

  @Override
  public Future<Void> whenOpen() {
    return gate.whenOpen();
  }

  @Override
  public void written(long rows, long nanos) {
    onBatch.written(rows, nanos);
    pace.onBatch(rows, nanos);
    if (guards != null) {
      guards.source().success();
      guards.target().success();
    }
  }

  @Override
  public String cutReason(long elapsedNanos) {
    String why = gate.reason();
    if (why != null) return "job waiting: " + why;
    Duration cap = maxTime.get();
    if (elapsedNanos > cap.toNanos()) return "transaction time cap of " + cap.toSeconds() + " s reached";
    return null;
  }

  @Override
  public boolean cancelled() {
    return stopping.getAsBoolean();
  }

  @Override
  public long nanoTime() {
    return nanos.getAsLong();
  }
}
