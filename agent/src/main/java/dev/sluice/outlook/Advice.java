package dev.sluice.outlook;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.TrafficLedger;
import dev.sluice.pace.Schedule;
import dev.sluice.traffic.Advisor;
import dev.sluice.traffic.HourOfWeek;
import dev.sluice.traffic.JobHour;
import dev.sluice.traffic.LoadProfile;
import dev.sluice.traffic.TrafficHour;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The advice for every job of a config, as {@code GET /api/advice} serves it and {@code sluice advise}
 * prints it: the learned week of the config's source (each job's in its schedule's time zone, with the
 * configured windows over it, for the dashboard's week strip), and {@link Advisor}'s windows, rate and
 * reasoning for each job. Rows left come from the ledger, or for a job not started yet from the
 * source's statistics ({@code reltuples}).
 */
public final class Advice {
  private Advice() {}

  /** The profile's name for a source: {@code host:port/database}, never its credentials. */
  public static String sourceName(DatabaseConfig db) {
    return db.host() + ":" + db.port() + "/" + db.database();
  }

  /**
   * Reads the ledger (null: there is none yet, nothing recorded) and the source's row estimates, and
   * advises every job of {@code cfg}.
   */
  public static Future<JsonObject> of(SqlClient ledger, SqlClient source, SluiceConfig cfg, Instant now) {
    String src = sourceName(cfg.source());
    Future<List<TrafficHour>> traffic = ledger == null ? Future.succeededFuture(List.of()) : TrafficLedger.traffic(ledger, src);
    Future<List<JobHour>> hours = ledger == null ? Future.succeededFuture(List.of()) : TrafficLedger.jobHours(ledger, null);
    Future<JsonArray> summary = ledger == null ? Future.succeededFuture(new JsonArray()) : Ledger.summary(ledger);
    Future<Map<String, Long>> remaining = summary.map(arr -> {
      Map<String, Long> m = new HashMap<>();
      for (int i = 0; i < arr.size(); i++) {
        JsonObject j = arr.getJsonObject(i);
        m.put(j.getString("name"), Math.max(0, j.getLong("rowsPlanned", 0L) - j.getLong("rowsCopied", 0L)));
      }
      return m;
    });
    return Future.all(traffic, hours, remaining).compose(all -> estimates(source, cfg, remaining.result()))
        .map(left -> assemble(cfg, src, traffic.result(), hours.result(), left, now));
  }

  /** Rows left per job: the ledger's, else the source table's estimate (-1: unknown). */
  private static Future<Map<String, Long>> estimates(SqlClient source, SluiceConfig cfg, Map<String, Long> fromLedger) {
    Map<String, Long> out = new HashMap<>(fromLedger);
    List<Future<?>> reads = new ArrayList<>();
    for (JobConfig j : cfg.jobs()) {
      if (out.containsKey(j.name())) continue;
      reads.add(source.preparedQuery("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass($1)")
          .execute(Tuple.of(j.source().table().sql()))
          .map(rows -> {
            Long n = rows.size() == 0 ? null : rows.iterator().next().getLong(0);
            synchronized (out) {
              out.put(j.name(), n == null ? -1L : n);
            }
            return null;
          })
          .otherwise(e -> {
            synchronized (out) {
              out.put(j.name(), -1L);
            }
            return null;
          }));
    }
    return Future.join(reads).transform(x -> Future.succeededFuture(out));
  }

  static JsonObject assemble(SluiceConfig cfg, String src, List<TrafficHour> traffic, List<JobHour> hours, Map<String, Long> left,
      Instant now) {
    JsonArray jobs = new JsonArray();
    LoadProfile first = null;
    for (JobConfig j : cfg.jobs()) {
      Schedule schedule = new Schedule(j.pacing().schedule());
      LoadProfile p = LoadProfile.of(traffic, hours, schedule.zone(), now);
      if (first == null) first = p;
      long rows = left.getOrDefault(j.name(), -1L);
      Advisor.Advice a = Advisor.advise(p, new Advisor.JobInput(j.name(), Math.max(0, rows), j.pace().rowsPerSecond(), j.concurrencyMax(),
          schedule), now);
      List<String> reasoning = new ArrayList<>(a.reasoning());
      if (rows < 0) reasoning.add("The rows left are unknown (the job has not started and the source has no estimate for its table).");
      jobs.add(new JsonObject()
          .put("job", j.name())
          .put("rowsLeft", rows < 0 ? null : rows)
          .put("configured", new JsonObject()
              .put("windows", schedule.alwaysOpen() ? "always" : schedule.describe())
              .put("rowsPerSecond", j.pace().rowsPerSecond()))
          .put("proposed", new JsonObject()
              .put("windows", a.windows() == null ? null : a.windows().isEmpty() ? "always" : new Schedule(a.windows(), p.zone()).describe())
              .put("schedule", a.windows() == null ? null : scheduleJson(a.windows(), p.zone().getId()))
              .put("rowsPerSecond", a.rowsPerSecond())
              .put("openHoursPerWeek", a.openHoursPerWeek())
              .put("finish", a.finish() == null || !a.finish().known() ? null : a.finish().finish().toString()))
          .put("reasoning", new JsonArray(reasoning))
          .put("week", week(p, schedule)));
    }
    LoadProfile p = first == null ? LoadProfile.of(traffic, hours, java.time.ZoneOffset.UTC, now) : first;
    double h = p.dataSeconds() / 3600;
    return new JsonObject()
        .put("at", now.toString())
        .put("source", src)
        .put("enoughData", p.enoughData())
        .put("hoursOfData", Math.round(h * 10) / 10.0)
        .put("note", p.enoughData() ? null : String.format(Locale.ROOT, "less than a day of data (%.1f h recorded): the advice is a guess", h))
        .put("jobs", jobs);
  }

  /** The proposal as the config's {@code schedule} section, ready to paste. */
  private static JsonObject scheduleJson(List<dev.sluice.config.ScheduleConfig.Window> windows, String zone) {
    JsonArray out = new JsonArray();
    for (var w : windows) {
      JsonArray days = new JsonArray();
      w.days().stream().sorted().forEach(d -> days.add(HourOfWeek.dayName(d)));
      out.add(new JsonObject().put("days", days).put("start", hhmm(w.startMinute())).put("end", hhmm(w.endMinute())));
    }
    return new JsonObject().put("timeZone", zone).put("windows", out);
  }

  private static String hhmm(int minutes) {
    return String.format(Locale.ROOT, "%02d:%02d", minutes / 60, minutes % 60);
  }

  /**
   * The week strip: per hour of the week (Monday 00:00 first, in the job's zone), the users'
   * transactions/s and sessions in a transaction (null: not measured), the share of the hour the
   * configured windows leave open, and the rate the job achieved there (null: no history).
   */
  static JsonObject week(LoadProfile p, Schedule s) {
    JsonArray xacts = new JsonArray();
    JsonArray busy = new JsonArray();
    JsonArray open = new JsonArray();
    for (int c = 0; c < HourOfWeek.HOURS; c++) {
      LoadProfile.Cell cell = p.cell(c);
      xacts.add(num(cell.xactsPerSecond()));
      busy.add(num(cell.busy()));
      int minutes = 0;
      for (int m = 0; m < 60; m++) if (s.allowsLocal(HourOfWeek.day(c), HourOfWeek.hourOfDay(c) * 60 + m)) minutes++;
      open.add(Math.round(minutes / 60.0 * 100) / 100.0);
    }
    return new JsonObject().put("zone", p.zone().getId()).put("xactsPerSecond", xacts).put("busy", busy).put("open", open)
        .put("windows", s.alwaysOpen() ? "always" : s.describe());
  }

  private static Double num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? null : Math.round(v * 100) / 100.0;
  }

  /** The advice as {@code sluice advise} prints it. */
  public static String text(JsonObject advice) {
    StringBuilder sb = new StringBuilder();
    sb.append("Advice for source ").append(advice.getString("source")).append(String.format(Locale.ROOT, " (%.1f h of traffic recorded)%n",
        advice.getDouble("hoursOfData")));
    if (advice.getString("note") != null) sb.append("NOTE: ").append(advice.getString("note")).append('\n');
    for (int i = 0; i < advice.getJsonArray("jobs").size(); i++) {
      JsonObject j = advice.getJsonArray("jobs").getJsonObject(i);
      JsonObject c = j.getJsonObject("configured");
      JsonObject p = j.getJsonObject("proposed");
      sb.append('\n').append("job ").append(j.getString("job")).append('\n');
      sb.append("  configured: windows ").append(c.getString("windows")).append(", rate ").append(rate(c.getDouble("rowsPerSecond"))).append('\n');
      sb.append("  proposed:   windows ").append(p.getString("windows") == null ? "(keep the configured ones)" : p.getString("windows"))
          .append(", rate ").append(p.getDouble("rowsPerSecond") == null ? "(keep the configured one)" : rate(p.getDouble("rowsPerSecond")));
      if (p.getString("finish") != null) sb.append(", finished around ").append(p.getString("finish"));
      sb.append('\n');
      if (p.getJsonObject("schedule") != null) sb.append("  as config:  \"schedule\": ").append(p.getJsonObject("schedule").encode()).append('\n');
      sb.append("  why:\n");
      for (Object r : j.getJsonArray("reasoning")) sb.append("    - ").append(r).append('\n');
    }
    return sb.toString();
  }

  private static String rate(Double r) {
    return r == null ? "unpaced" : String.format(Locale.ROOT, "%,.0f rows/s", r);
  }
}
