package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

/**
 * The COPY path of one job: its engine, and the job's side of every copy ({@link SegmentCopier.Control}).
 * A whole segment that read far fewer rows than planned is counted again ({@link ShortCopy}), as on the row path.
 */
final class CopyProtocolPath implements CopyPath {
  private final CopyEngine engine;
  private final SegmentCopier.Control control;
  private final PathChoice choice;
  private final Pool source;
  private final SegmentSql sql;

  CopyProtocolPath(CopyEngine engine, SegmentCopier.Control control, PathChoice choice, Pool source, SegmentSql sql) {
    this.engine = engine;
    this.source = source;
    this.sql = sql;
    this.control = control;
    this.choice = choice;
  }

  @Override
  public Future<SegmentCopier.Result> copy(Segment seg, boolean purgeFirst) {
    return engine.copy(seg, purgeFirst, control).compose(res -> ShortCopy.recount(source, sql, seg, res));
  }

  @Override
  public Future<Sum> target(KeyRange range) {
    return engine.targetSum(range);
  }

  @Override
  public void warm() {
    engine.warm();
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
