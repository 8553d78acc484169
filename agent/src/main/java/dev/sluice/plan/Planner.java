package dev.sluice.plan;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Splits a job's key space into segments of {@code segment.rows} rows each by walking the key in
 * index order: from each boundary, the key {@code rows} positions further on is the next boundary.
 * Segments are sized by rows actually present (sparse keys, skewed keys and row filters included),
 * not by key arithmetic, and work for any orderable key type, composite keys too.
 *
 * <p>The first segment has no lower bound and the last no upper bound, so the plan covers every key,
 * including keys inserted after planning. An empty table gets one unbounded segment.
 *
 * <p>Cost: one ordered pass over the key index (plus the heap when {@code where} filters rows),
 * in statements of {@code segment.rows} rows each, none holding a long snapshot.
 */
public final class Planner {
  private final SqlClient source;

  public Planner(SqlClient source) {
    this.source = source;
  }

  public Future<List<PlannedSegment>> plan(JobShape shape) {
    return plan(shape, KeyRange.ALL, shape.job().segmentRows());
  }

  /**
   * Cuts {@code span} alone into segments of {@code rows} rows (a re-plan of pending segments): the
   * first keeps the span's lower bound and the last its upper bound, so the pieces tile it exactly.
   * Numbered from 0 in key order.
   */
  public Future<List<PlannedSegment>> plan(JobShape shape, KeyRange span, long rows) {
    Promise<List<PlannedSegment>> done = Promise.promise();
    step(shape, rows, span.lower(), span.upper(), new ArrayList<>(), done);
    return done.future();
  }

  /**
   * The source key {@code offset} rows into {@code range} in key order (each key column as text), or
   * null when the range holds fewer rows: a plan boundary, or where to split a segment in two.
   */
  public Future<List<String>> keyAt(JobShape shape, KeyRange range, long offset) {
    KeyRange.Predicate p = range.predicate(shape.sourceKey(), shape.keyTypes(), 1);
    // The key is printed as text only for the one row found: in the inner query the scan hands the
    // skipped rows over as they are (an index-only scan, no projection), where `key::text` there would
    // print every one of them (measured: 30-40% of the walk's time, 1-2 s per 10M rows).
    String keys = shape.sourceKey().stream().map(k -> Sql.ident(k) + "::text").collect(Collectors.joining(", "));
    String sql = "SELECT " + keys + " FROM (SELECT " + shape.sourceKeyList() + from(shape) + " AND " + p.sql() + " ORDER BY " + shape.sourceKeyOrder()
        + " OFFSET $" + (p.params().size() + 1) + " LIMIT 1) sluice_key_at";
    Tuple params = Tuple.tuple(p.params());
    params.addLong(Math.max(0, offset));
    return source.preparedQuery(sql).execute(params).map(rows -> {
      if (rows.size() == 0) return null;
      Row r = rows.iterator().next();
      List<String> key = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) key.add(r.getString(i));
      return List.copyOf(key);
    });
  }

  private static String from(JobShape shape) {
    return " FROM " + shape.job().source().table().sql() + " WHERE " + shape.whereClause();
  }

  private void step(JobShape shape, long rows, List<String> lower, List<String> end, List<PlannedSegment> out,
      Promise<List<PlannedSegment>> done) {
    KeyRange rest = new KeyRange(lower, end);
    keyAt(shape, rest, rows).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      List<String> upper = ar.result();
      if (upper == null) {
        // The tail: fewer than `rows` keys left; count them for the estimate.
        KeyRange.Predicate lo = rest.predicate(shape.sourceKey(), shape.keyTypes(), 1);
        Tuple params = Tuple.tuple(lo.params());
        params.addLong(rows);
        String count = "SELECT count(*) FROM (SELECT 1" + from(shape) + " AND " + lo.sql() + " LIMIT $" + (lo.params().size() + 1) + ") t";
        source.preparedQuery(count).execute(params).onComplete(c -> {
          if (c.failed()) {
            done.fail(c.cause());
            return;
          }
          out.add(new PlannedSegment(out.size(), rest, c.result().iterator().next().getLong(0)));
          done.complete(out);
        });
        return;
      }
      out.add(new PlannedSegment(out.size(), new KeyRange(lower, upper), rows));
      step(shape, rows, upper, end, out, done);
    });
  }

  /** Segments and rows a plan would have, estimated from the row estimate (for validate). */
  public static long estimateSegments(double estimatedRows, long segmentRows) {
    return Math.max(1, (long) Math.ceil(estimatedRows / segmentRows));
  }
}
