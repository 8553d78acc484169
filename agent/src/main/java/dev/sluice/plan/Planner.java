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
    long rows = shape.job().segmentRows();
    String keyText = shape.sourceKey().stream().map(k -> Sql.ident(k) + "::text").collect(Collectors.joining(", "));
    String from = " FROM " + shape.job().source().table().sql() + " WHERE " + shape.whereClause();
    String order = " ORDER BY " + shape.sourceKeyOrder();
    Promise<List<PlannedSegment>> done = Promise.promise();
    step(shape, rows, keyText, from, order, null, new ArrayList<>(), done);
    return done.future();
  }

  private void step(JobShape shape, long rows, String keyText, String from, String order, List<String> lower,
      List<PlannedSegment> out, Promise<List<PlannedSegment>> done) {
    KeyRange.Predicate lo = new KeyRange(lower, null).predicate(shape.sourceKey(), shape.keyTypes(), 1);
    int next = lo.params().size() + 1;
    String sql = "SELECT " + keyText + from + " AND " + lo.sql() + order + " OFFSET $" + next + " LIMIT 1";
    Tuple params = Tuple.tuple(lo.params());
    params.addLong(rows);
    source.preparedQuery(sql).execute(params).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      if (ar.result().size() == 0) {
        // The tail: fewer than `rows` keys left; count them for the estimate.
        String count = "SELECT count(*) FROM (SELECT 1" + from + " AND " + lo.sql() + " LIMIT $" + next + ") t";
        source.preparedQuery(count).execute(params).onComplete(c -> {
          if (c.failed()) {
            done.fail(c.cause());
            return;
          }
          out.add(new PlannedSegment(out.size(), new KeyRange(lower, null), c.result().iterator().next().getLong(0)));
          done.complete(out);
        });
        return;
      }
      Row r = ar.result().iterator().next();
      List<String> upper = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) upper.add(r.getString(i));
      out.add(new PlannedSegment(out.size(), new KeyRange(lower, List.copyOf(upper)), rows));
      step(shape, rows, keyText, from, order, List.copyOf(upper), out, done);
    });
  }

  /** Segments and rows a plan would have, estimated from the row estimate (for validate). */
  public static long estimateSegments(double estimatedRows, long segmentRows) {
    return Math.max(1, (long) Math.ceil(estimatedRows / segmentRows));
  }
}
