package dev.sluice.ledger;

import dev.sluice.report.ReportInput;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads what a job's final report is made of ({@link ReportInput}): the job row, its segments by
 * state, its hours, the audit events the report counts (retries, parked, split, re-copied and queued
 * segments, and the verifications of those segments only: a job of 20,000 segments does not read
 * 20,000 verified events), its verification report and the config versions applied while it ran.
 */
public final class ReportLedger {
  private ReportLedger() {}

  private static final String EVENTS = "SELECT id, at, kind, segment, message, details FROM sluice.events e WHERE job = $1 AND ("
      + "kind IN ('segment.retry', 'segment.failed', 'segment.split', 'segment.pending') "
      + "OR (kind = 'segment.copying' AND message LIKE '%re-copying: verification mismatch%') "
      + "OR (kind = 'segment.verified' AND segment IN (SELECT segment FROM sluice.events t WHERE t.job = $1 AND t.segment IS NOT NULL "
      + "AND (t.kind = 'segment.failed' OR (t.kind = 'segment.copying' AND t.message LIKE '%re-copying: verification mismatch%'))))) "
      + "ORDER BY id";

  /** The report's input for a job, or null when the ledger does not know the job. */
  public static Future<ReportInput> input(SqlClient db, String job, String schedule) {
    Future<Row> jobRow = db.preparedQuery("SELECT state, reason, started_at, coalesce(finished_at, now()), rows_planned, changes_applied, "
            + "verify_report, (SELECT coalesce(sum(rows_copied), 0) FROM sluice.segments s WHERE s.job = j.name "
            + "AND s.state IN ('copied', 'verified'))::bigint FROM sluice.jobs j WHERE name = $1")
        .execute(Tuple.of(job)).map(rows -> rows.size() == 0 ? null : rows.iterator().next());
    return jobRow.compose(r -> {
      if (r == null) return Future.succeededFuture(null);
      Future<Map<String, Integer>> segs = db.preparedQuery("SELECT state, count(*)::int FROM sluice.segments WHERE job = $1 GROUP BY state ORDER BY state")
          .execute(Tuple.of(job)).map(rows -> {
            Map<String, Integer> m = new LinkedHashMap<>();
            for (Row x : rows) m.put(x.getString(0), x.getInteger(1));
            return m;
          });
      Future<List<ReportInput.Event>> events = db.preparedQuery(EVENTS).execute(Tuple.of(job)).map(rows -> {
        List<ReportInput.Event> out = new ArrayList<>();
        for (Row x : rows) {
          out.add(new ReportInput.Event(x.getLong(0), instant(x.getOffsetDateTime(1)), x.getString(2), x.getInteger(3), x.getString(4),
              (JsonObject) x.getValue(5)));
        }
        return out;
      });
      Instant started = instant(r.getOffsetDateTime(2));
      Instant finished = instant(r.getOffsetDateTime(3));
      Future<List<ReportInput.ConfigVersion>> configs = db.preparedQuery("SELECT id, hash, applied_at, cause FROM sluice.config_versions "
              + "WHERE applied_at <= $2 AND (applied_at >= $1 OR id = (SELECT max(id) FROM sluice.config_versions WHERE applied_at < $1)) ORDER BY id")
          .execute(Tuple.of(r.getOffsetDateTime(2), r.getOffsetDateTime(3))).map(rows -> {
            List<ReportInput.ConfigVersion> out = new ArrayList<>();
            for (Row x : rows) out.add(new ReportInput.ConfigVersion(x.getLong(0), x.getString(1), instant(x.getOffsetDateTime(2)), x.getString(3)));
            return out;
          });
      var hours = TrafficLedger.jobHours(db, job);
      return Future.all(segs, events, configs, hours).map(all -> new ReportInput(job, r.getString(0), r.getString(1), started, finished,
          r.getLong(4), r.getLong(7), r.getLong(5), segs.result(), hours.result(), events.result(), (JsonObject) r.getValue(6),
          configs.result(), schedule));
    });
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
