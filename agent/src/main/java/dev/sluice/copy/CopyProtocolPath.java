package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;

/** The COPY path of one job: its engine, and the job's side of every copy ({@link SegmentCopier.Control}). */
final class CopyProtocolPath implements CopyPath {
  private final CopyEngine engine;
  private final SegmentCopier.Control control;
  private final PathChoice choice;

  CopyProtocolPath(CopyEngine engine, SegmentCopier.Control control, PathChoice choice) {
    this.engine = engine;
    this.control = control;
    this.choice = choice;
  }

  @Override
  public Future<SegmentCopier.Result> copy(Segment seg, boolean purgeFirst) {
    return engine.copy(seg, purgeFirst, control);
  }

  @Override
  public Future<Sum> target(KeyRange range) {
    return engine.targetSum(range);
  }

  @Override
  public PathChoice choice() {
    return choice;
  }

  @Override
  public void close() {
    engine.close();
  }
}
