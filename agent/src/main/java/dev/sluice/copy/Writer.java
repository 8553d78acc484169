package dev.sluice.copy;

import dev.sluice.ledger.LeaseLostException;
import dev.sluice.ledger.Segment;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Writes batches into the target with one fenced, idempotent upsert each:
 * {@code INSERT .. SELECT FROM (SELECT unnest($5::bigint[]), unnest($6::text[]), ..) ON CONFLICT (key) DO UPDATE}.
 * Integers travel as typed arrays; other values as their text forms, cast to the target types by the
 * server, which covers every type with text I/O (numeric, timestamptz, uuid, jsonb, bytea, arrays,
 * enums) and NULL in any column.
 */
public final class Writer {
  private final SegmentSql sql;
  private final String upsert;
  private final String agentId;
  private final ColumnKind[] kinds;

  public Writer(SegmentSql sql, String agentId) {
    this.sql = sql;
    this.kinds = sql.kinds().toArray(new ColumnKind[0]);
    this.upsert = sql.upsert();
    this.agentId = agentId;
  }

  /** Upserts a batch over {@code target}; returns rows written (unchanged rows are not rewritten). */
  public Future<Long> write(SqlClient target, Segment seg, Batch batch) {
    return target.preparedQuery(upsert).execute(params(seg, batch)).compose(rows -> checked(rows.iterator().next(), seg));
  }

  /** The upsert's parameters: the fence, then one array per column, typed by its {@link ColumnKind}. */
  private Tuple params(Segment seg, Batch batch) {
    Tuple t = fence(seg);
    bind(t, kinds, batch);
    return t;
  }

  /** Appends one array per column, typed by its {@link ColumnKind}. */
  static void bind(Tuple t, ColumnKind[] kinds, Batch batch) {
    Object[][] cols = batch.columns();
    for (int c = 0; c < cols.length; c++) kinds[c].bind(t, cols[c]);
  }

  /** Deletes what a previous attempt left in the segment's target range. */
  public Future<Long> purge(SqlClient target, Segment seg) {
    SegmentSql.Statement st = sql.purge(seg.range());
    Tuple t = fence(seg);
    st.params().forEach(t::addValue);
    return target.preparedQuery(st.sql()).execute(t).compose(rows -> checked(rows.iterator().next(), seg));
  }

  Tuple fence(Segment seg) {
    return Tuple.of(seg.job(), seg.seq(), agentId, seg.epoch());
  }

  static Future<Long> checked(Row r, Segment seg) {
    if (r.getLong(0) == 0) return Future.failedFuture(new LeaseLostException(seg.job(), seg.seq(), seg.epoch()));
    return Future.succeededFuture(r.getLong(1));
  }
}
