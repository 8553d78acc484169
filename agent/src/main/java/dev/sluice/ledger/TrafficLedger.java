package dev.sluice.ledger;

import dev.sluice.traffic.HourRecorder;
import dev.sluice.traffic.JobHour;
import dev.sluice.traffic.LoadProfile;
import dev.sluice.traffic.TrafficHour;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The learned week in the ledger: {@code sluice.traffic_hours} (the source's users, per source and
 * UTC hour) and {@code sluice.job_hours} (each job's rows, run time and holds per hour). Rows are
 * sums: {@link #record} adds a drain to what is there, so agents sharing a source and successive
 * flushes add up. {@link #prune} keeps {@value LoadProfile#MAX_WEEKS} weeks of traffic, and a job's
 * hours until {@value LoadProfile#MAX_WEEKS} weeks after it finished (its report reads them).
 * At most 168 rows a week a source and a job: bounded.
 */
public final class TrafficLedger {
  private TrafficLedger() {}

  private static final String ADD_TRAFFIC = "INSERT INTO sluice.traffic_hours AS t (source, hour, seconds, xacts, xact_seconds, busy_sum, "
      + "busy_n, busy_max, probe_sum, probe_n, probe_max) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
      + "ON CONFLICT (source, hour) DO UPDATE SET seconds = t.seconds + excluded.seconds, xacts = t.xacts + excluded.xacts, "
      + "xact_seconds = t.xact_seconds + excluded.xact_seconds, busy_sum = t.busy_sum + excluded.busy_sum, "
      + "busy_n = t.busy_n + excluded.busy_n, busy_max = greatest(t.busy_max, excluded.busy_max), "
      + "probe_sum = t.probe_sum + excluded.probe_sum, probe_n = t.probe_n + excluded.probe_n, "
      + "probe_max = greatest(t.probe_max, excluded.probe_max)";

  private static final String ADD_JOB = "INSERT INTO sluice.job_hours AS h (job, hour, rows, write_seconds, run_seconds, slowed_seconds, "
      + "wait_seconds, allowed_sum, allowed_n, lag_max_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
      + "ON CONFLICT (job, hour) DO UPDATE SET rows = h.rows + excluded.rows, write_seconds = h.write_seconds + excluded.write_seconds, "
      + "run_seconds = h.run_seconds + excluded.run_seconds, slowed_seconds = h.slowed_seconds + excluded.slowed_seconds, "
      + "wait_seconds = (SELECT coalesce(jsonb_object_agg(k, coalesce((h.wait_seconds ->> k)::float8, 0) "
      + "+ coalesce((excluded.wait_seconds ->> k)::float8, 0)), '{}') FROM jsonb_object_keys(h.wait_seconds || excluded.wait_seconds) k), "
      + "allowed_sum = h.allowed_sum + excluded.allowed_sum, allowed_n = h.allowed_n + excluded.allowed_n, "
      + "lag_max_seconds = greatest(h.lag_max_seconds, excluded.lag_max_seconds)";

  /** Adds a drain to the ledger, in one transaction. */
  public static Future<Void> record(io.vertx.sqlclient.Pool db, HourRecorder.Drained d) {
    if (d.isEmpty()) return Future.succeededFuture();
    List<Tuple> traffic = new ArrayList<>();
    for (TrafficHour h : d.traffic()) {
      traffic.add(Tuple.of(h.source(), ts(h.hour()), h.seconds(), h.xacts(), h.xactSeconds(), h.busySum(), h.busyN(), h.busyMax())
          .addValue(h.probeSum()).addValue(h.probeN()).addValue(h.probeMax()));
    }
    List<Tuple> jobs = new ArrayList<>();
    for (JobHour h : d.jobs()) {
      JsonObject wait = new JsonObject();
      h.waitSeconds().forEach(wait::put);
      jobs.add(Tuple.of(h.job(), ts(h.hour()), h.rows(), h.writeSeconds(), h.runSeconds(), h.slowedSeconds(), wait, h.allowedSum())
          .addValue(h.allowedN()).addValue(h.lagMaxSeconds()));
    }
    return db.withTransaction(conn -> (traffic.isEmpty() ? Future.succeededFuture() : conn.preparedQuery(ADD_TRAFFIC).executeBatch(traffic))
        .compose(v -> jobs.isEmpty() ? Future.succeededFuture() : conn.preparedQuery(ADD_JOB).executeBatch(jobs))).mapEmpty();
  }

  /** Deletes traffic older than the profile keeps, and the hours of jobs finished that long ago (or gone). */
  public static Future<Void> prune(SqlClient db) {
    String keep = "interval '" + LoadProfile.MAX_WEEKS + " weeks'";
    return db.query("DELETE FROM sluice.traffic_hours WHERE hour < now() - " + keep).execute()
        .compose(v -> db.query("DELETE FROM sluice.job_hours h WHERE hour < now() - " + keep + " AND NOT EXISTS (SELECT 1 FROM sluice.jobs j "
            + "WHERE j.name = h.job AND (j.finished_at IS NULL OR j.finished_at > now() - " + keep + "))").execute())
        .mapEmpty();
  }

  /** The traffic of every source (null) or one, over the weeks the profile uses. */
  public static Future<List<TrafficHour>> traffic(SqlClient db, String source) {
    return db.preparedQuery("SELECT source, hour, seconds, xacts, xact_seconds, busy_sum, busy_n, busy_max, probe_sum, probe_n, probe_max "
            + "FROM sluice.traffic_hours WHERE ($1::text IS NULL OR source = $1) AND hour >= now() - interval '" + LoadProfile.MAX_WEEKS
            + " weeks' ORDER BY hour")
        .execute(Tuple.of(source))
        .map(rows -> {
          List<TrafficHour> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(new TrafficHour(r.getString(0), instant(r, 1), r.getDouble(2), r.getDouble(3), r.getDouble(4), r.getDouble(5),
                r.getLong(6), r.getDouble(7), r.getDouble(8), r.getLong(9), r.getDouble(10)));
          }
          return out;
        });
  }

  /** The hours of one job (null: every job), oldest first. */
  public static Future<List<JobHour>> jobHours(SqlClient db, String job) {
    return db.preparedQuery("SELECT job, hour, rows, write_seconds, run_seconds, slowed_seconds, wait_seconds, allowed_sum, allowed_n, "
            + "lag_max_seconds FROM sluice.job_hours WHERE ($1::text IS NULL OR job = $1) ORDER BY hour")
        .execute(Tuple.of(job))
        .map(rows -> {
          List<JobHour> out = new ArrayList<>();
          for (Row r : rows) {
            Map<String, Double> wait = new TreeMap<>();
            JsonObject w = (JsonObject) r.getValue(6);
            if (w != null) w.forEach(e -> wait.put(e.getKey(), ((Number) e.getValue()).doubleValue()));
            out.add(new JobHour(r.getString(0), instant(r, 1), r.getLong(2), r.getDouble(3), r.getDouble(4), r.getDouble(5), wait,
                r.getDouble(7), r.getLong(8), r.getDouble(9)));
          }
          return out;
        });
  }

  private static OffsetDateTime ts(Instant i) {
    return i.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(Row r, int i) {
    return r.getOffsetDateTime(i).toInstant();
  }
}
