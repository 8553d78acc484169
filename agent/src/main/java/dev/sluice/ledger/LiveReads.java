package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ledger reads behind the live view and the API's audit trail: each is one cheap query over
 * indexed columns, run once a second (or on a state change) whatever the number of dashboards open.
 */
public final class LiveReads {
  private LiveReads() {}

  /**
   * One character a segment, in seq order: p pending, c copying, C copied, v verified, f failed, r
   * rolling back, R rolled back. Cell i is segment {@code firstSeq + i} unless {@code seqs} (then null
   * while seqs are contiguous) lists them: a re-plan replaces segments by new numbers and leaves holes.
   */
  /** {@code hot}: the segments the cold-first order marks hot (heat of {@value #HOT} or more), copied last. */
  public record Heatmap(int firstSeq, String cells, JsonArray seqs, JsonArray hot) {}

  /** The heat at and above which a segment is hot (plan.ColdFirst.HOT; the ledger's {@code heat} keeps it so). */
  static final double HOT = 4.0;

  public static Future<Map<String, Heatmap>> heatmaps(SqlClient db) {
    return db.query("SELECT job, min(seq), string_agg(CASE state WHEN 'pending' THEN 'p' WHEN 'copying' THEN 'c' "
            + "WHEN 'copied' THEN 'C' WHEN 'verified' THEN 'v' WHEN 'failed' THEN 'f' WHEN 'rolling_back' THEN 'r' WHEN 'rolled_back' THEN 'R' ELSE '?' END, '' ORDER BY seq), "
            + "CASE WHEN max(seq) - min(seq) + 1 = count(*) THEN NULL ELSE string_agg(seq::text, ',' ORDER BY seq) END, "
            + "string_agg(seq::text, ',' ORDER BY seq) FILTER (WHERE heat >= " + HOT + ") "
            + "FROM sluice.segments GROUP BY job")
        .execute()
        .map(rows -> {
          Map<String, Heatmap> out = new LinkedHashMap<>();
          for (Row r : rows) out.put(r.getString(0), new Heatmap(r.getInteger(1), r.getString(2), seqs(r.getString(3)),
              r.getString(4) == null ? new JsonArray() : seqs(r.getString(4))));
          return out;
        });
  }

  private static JsonArray seqs(String list) {
    if (list == null) return null;
    JsonArray out = new JsonArray();
    for (String n : list.split(",")) out.add(Integer.parseInt(n));
    return out;
  }

  /** Parked segments with their errors, up to {@code limit} a job. */
  public static Future<Map<String, JsonArray>> failed(SqlClient db, int limit) {
    return db.preparedQuery("SELECT job, seq, lower_bound::text, upper_bound::text, last_error, error_key, attempts FROM ("
            + "SELECT s.*, row_number() OVER (PARTITION BY job ORDER BY seq) rn FROM sluice.segments s WHERE state = 'failed') x "
            + "WHERE rn <= $1 ORDER BY job, seq")
        .execute(Tuple.of(limit))
        .map(rows -> {
          Map<String, JsonArray> out = new LinkedHashMap<>();
          for (Row r : rows) {
            out.computeIfAbsent(r.getString(0), k -> new JsonArray()).add(new JsonObject()
                .put("seq", r.getInteger(1)).put("lower", r.getString(2)).put("upper", r.getString(3))
                .put("error", r.getString(4)).put("errorKey", r.getString(5)).put("attempts", r.getInteger(6)));
          }
          return out;
        });
  }

  /** One segment in full, for the heatmap's hover; null when there is no such segment. */
  public static Future<JsonObject> segment(SqlClient db, String job, int seq) {
    return db.preparedQuery("SELECT seq, state, lower_bound::text, upper_bound::text, rows_planned, rows_copied, attempts, "
            + "last_error, error_key, owner, source_rows, target_rows, started_at::text, copied_at::text, verified_at::text, "
            + "heat, changes_seen FROM sluice.segments WHERE job = $1 AND seq = $2")
        .execute(Tuple.of(job, seq))
        .map(rows -> {
          if (rows.size() == 0) return null;
          Row r = rows.iterator().next();
          return new JsonObject().put("seq", r.getInteger(0)).put("state", r.getString(1))
              .put("lower", r.getString(2)).put("upper", r.getString(3))
              .put("rowsPlanned", r.getLong(4)).put("rowsCopied", r.getLong(5)).put("attempts", r.getInteger(6))
              .put("error", r.getString(7)).put("errorKey", r.getString(8)).put("owner", r.getString(9))
              .put("sourceRows", r.getLong(10)).put("targetRows", r.getLong(11))
              .put("startedAt", r.getString(12)).put("copiedAt", r.getString(13)).put("verifiedAt", r.getString(14))
              .put("heat", r.getValue(15) == null ? null : Math.round(((Number) r.getValue(15)).doubleValue() * 100) / 100.0)
              .put("hot", r.getValue(15) != null && ((Number) r.getValue(15)).doubleValue() >= HOT)
              .put("changesSeen", r.getLong(16));
        });
  }

  /** Re-copies after a verification mismatch so far, per job (counted once at start; then from new events). */
  public static Future<Map<String, Long>> mismatches(SqlClient db) {
    return db.query("SELECT job, count(*) FROM sluice.events WHERE kind = 'segment.copying' "
            + "AND message LIKE '%re-copying: verification mismatch%' GROUP BY job")
        .execute()
        .map(rows -> {
          Map<String, Long> out = new LinkedHashMap<>();
          for (Row r : rows) out.put(r.getString(0), r.getLong(1));
          return out;
        });
  }

  public static Future<Long> lastEventId(SqlClient db) {
    return db.query("SELECT coalesce(max(id), 0) FROM sluice.events").execute().map(rows -> rows.iterator().next().getLong(0));
  }

  /** The audit trail after event {@code after} (of one job, or of all when {@code job} is null), oldest first. */
  public static Future<JsonArray> events(SqlClient db, String job, long after, int limit) {
    return db.preparedQuery("SELECT id, at::text, job, segment, agent, kind, message, details FROM sluice.events "
            + "WHERE ($1::text IS NULL OR job = $1) AND id > $2 ORDER BY id LIMIT $3")
        .execute(Tuple.of(job, after, limit))
        .map(rows -> {
          JsonArray out = new JsonArray();
          for (Row r : rows) {
            out.add(new JsonObject().put("id", r.getLong(0)).put("at", r.getString(1)).put("job", r.getString(2))
                .put("segment", r.getInteger(3)).put("agent", r.getString(4)).put("kind", r.getString(5))
                .put("message", r.getString(6)).put("details", r.getValue(7)));
          }
          return out;
        });
  }
}
