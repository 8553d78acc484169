package dev.sluice.copy;

import dev.sluice.ledger.LeaseLostException;
import dev.sluice.ledger.Segment;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Writes batches into the target with one fenced statement each:
 * {@code INSERT .. SELECT FROM (SELECT unnest($5::text::bigint[]), unnest($6::text::text[]), ..)},
 * each parameter a column's packed array text as the source printed it. The idempotent upsert
 * ({@code ON CONFLICT (key) DO UPDATE}) serves every re-copy; a first attempt into a range nothing
 * has written yet uses the plain insert, which fails with 23505 if a row is there after all.
 */
public final class Writer {
  private final SegmentSql sql;
  private final String upsert;
  private final String insert;
  private final String agentId;

  public Writer(SegmentSql sql, String agentId) {
    this.sql = sql;
    this.upsert = sql.upsert();
    this.insert = sql.insert();
    this.agentId = agentId;
  }

  /**
   * Writes a batch over {@code target}, upserting or (for {@code plain}) inserting; returns rows
   * written (an upsert does not rewrite unchanged rows).
   */
  public Future<Long> write(SqlClient target, Segment seg, Batch batch, boolean plain) {
    return target.preparedQuery(plain ? insert : upsert).execute(params(seg, batch)).compose(rows -> checked(rows.iterator().next(), seg));
  }

  /** The write's parameters: the fence, then each column's packed array text. */
  static Tuple params(Segment seg, Batch batch, String agentId) {
    Tuple t = fence(seg, agentId);
    for (String col : batch.columns()) t.addString(col);
    return t;
  }

  private Tuple params(Segment seg, Batch batch) {
    return params(seg, batch, agentId);
  }

  /** Deletes what a previous attempt left in the segment's target range. */
  public Future<Long> purge(SqlClient target, Segment seg) {
    SegmentSql.Statement st = sql.purge(seg.range());
    Tuple t = fence(seg);
    st.params().forEach(t::addValue);
    return target.preparedQuery(st.sql()).execute(t).compose(rows -> checked(rows.iterator().next(), seg));
  }

  Tuple fence(Segment seg) {
    return fence(seg, agentId);
  }

  /** Parameters $1..$4 of every fenced statement (see {@link SegmentSql#FENCE_PARAMS}). */
  private static Tuple fence(Segment seg, String agentId) {
    return Tuple.of(seg.job(), seg.seq(), agentId, seg.epoch());
  }

  static Future<Long> checked(Row r, Segment seg) {
    if (r.getLong(0) == 0) return Future.failedFuture(new LeaseLostException(seg.job(), seg.seq(), seg.epoch()));
    return Future.succeededFuture(r.getLong(1));
  }
}
