package dev.sluice.ledger;

import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The cold-first order's evidence and verdict in the ledger: each segment's captured changes
 * ({@code changes_seen}) and its {@code heat}, which orders claims (coldest first) and marks the
 * heatmap: a heat of {@code plan.ColdFirst.HOT} or more means hot, and only a hot segment has one.
 */
public final class SegmentHeat {
  private SegmentHeat() {}

  /** A segment as the ranking sees it. */
  public record Evidence(int seq, KeyRange range, long rows, long changes, String state, Double heat) {}

  public static Future<List<Evidence>> evidence(SqlClient db, String job) {
    return db.preparedQuery("SELECT seq, lower_bound, upper_bound, rows_planned, changes_seen, state, heat FROM sluice.segments WHERE job = $1")
        .execute(Tuple.of(job))
        .map(rows -> {
          List<Evidence> out = new ArrayList<>();
          for (Row r : rows) {
            String[] lo = r.getArrayOfStrings(1);
            String[] hi = r.getArrayOfStrings(2);
            Object h = r.getValue(6);
            out.add(new Evidence(r.getInteger(0), new KeyRange(lo == null ? null : Arrays.asList(lo), hi == null ? null : Arrays.asList(hi)),
                r.getLong(3), r.getLong(4), r.getString(5), h == null ? null : ((Number) h).doubleValue()));
          }
          return out;
        });
  }

  /** Stores each segment's heat (only where it changed by more than 1%). */
  public static Future<Void> store(SqlClient db, String job, Map<Integer, Double> heat) {
    if (heat.isEmpty()) return Future.succeededFuture();
    Integer[] seqs = heat.keySet().toArray(new Integer[0]);
    Float[] values = heat.values().stream().map(Double::floatValue).toArray(Float[]::new);
    return db.preparedQuery("UPDATE sluice.segments g SET heat = x.h FROM unnest($2::int[], $3::real[]) AS x(seq, h) "
            + "WHERE g.job = $1 AND g.seq = x.seq AND (g.heat IS NULL OR abs(g.heat - x.h) > 0.01 * greatest(abs(x.h), 0.01))")
        .execute(Tuple.of(job, seqs, values)).mapEmpty();
  }

  /**
   * The parts of a split segment start with its heat and a share of its changes in proportion to
   * their rows, so they stay behind the cold segments; their own changes then tell the cold parts
   * from the hot one.
   */
  public static Future<Void> inherit(SqlClient db, String job, List<Integer> seqs, long parentChanges, long parentRows, Double heat) {
    if (seqs.isEmpty()) return Future.succeededFuture();
    return db.preparedQuery("UPDATE sluice.segments SET heat = $3, changes_seen = CASE WHEN $5 > 0 THEN round($4::float8 * rows_planned / $5)::bigint "
            + "ELSE 0 END WHERE job = $1 AND seq = ANY($2::int[])")
        .execute(Tuple.of(job).addArrayOfInteger(seqs.toArray(new Integer[0])).addValue(heat == null ? null : heat.floatValue())
            .addValue(parentChanges).addValue(parentRows))
        .mapEmpty();
  }
}
