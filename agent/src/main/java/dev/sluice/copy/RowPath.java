package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * The paths of the Vert.x client: batches of rows through the agent, or one server-side statement
 * per segment ({@link SegmentCopier}); a segment is proved with the row hash computed in SQL on
 * the target ({@link SegmentSql#targetHash}), as the copy computed it on the source.
 */
final class RowPath implements CopyPath {
  private final SegmentCopier copier;
  private final SegmentSql sql;
  private final Pool target;
  private final PathChoice choice;

  RowPath(SegmentCopier copier, SegmentSql sql, Pool target, PathChoice choice) {
    this.copier = copier;
    this.sql = sql;
    this.target = target;
    this.choice = choice;
  }

  @Override
  public Future<SegmentCopier.Result> copy(Segment seg, boolean purgeFirst) {
    return copier.copy(seg, purgeFirst);
  }

  @Override
  public Future<Sum> target(KeyRange range) {
    SegmentSql.Statement st = sql.targetHash(range);
    return target.preparedQuery(st.sql()).execute(Tuple.tuple(st.params())).map(rows -> {
      Row r = rows.iterator().next();
      return new Sum(r.getLong(0), Batch.wrap(r.getString(1)));
    });
  }

  @Override
  public PathChoice choice() {
    return choice;
  }
}
