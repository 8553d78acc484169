package dev.sluice.report;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Map;

/** Prints a report built by {@link ReportBuilder} as Markdown, for a ticket or a change record. Pure. */
public final class ReportMarkdown {
  private ReportMarkdown() {}

  public static String render(JsonObject r) {
    StringBuilder md = new StringBuilder();
    md.append("# Sluice report: job ").append(r.getString("job")).append("\n\n");
    md.append("- Outcome: **").append(r.getString("outcome")).append("**");
    if (r.getString("reason") != null) md.append(" (").append(r.getString("reason")).append(")");
    boolean ended = r.getBoolean("final", true);
    md.append("\n- Started: ").append(or(r.getString("startedAt"))).append("\n- Finished: ")
        .append(ended ? or(r.getString("finishedAt")) : "not yet (as of " + or(r.getString("asOf")) + ")");
    md.append("\n- Duration: ").append(r.getValue("durationSeconds") == null ? "unknown" : words(r.getDouble("durationSeconds")))
        .append(ended ? "" : " so far").append("\n");
    JsonObject rows = r.getJsonObject("rows");
    md.append(String.format(Locale.ROOT, "- Rows: %,d copied of %,d planned; %,d captured changes applied%n", rows.getLong("copied"),
        rows.getLong("planned"), rows.getLong("changesApplied")));
    JsonObject rate = r.getJsonObject("rate");
    md.append("- Rate: ").append(rate(rate.getValue("averageRowsPerSecond"))).append(" rows/s over the whole duration, ")
        .append(rate(rate.getValue("runningRowsPerSecond"))).append(" rows/s while running\n\n");

    JsonObject time = r.getJsonObject("time");
    md.append("## Time\n\n| | time |\n|---|---|\n");
    md.append("| running | ").append(words(time.getDouble("runSeconds"))).append(" |\n");
    md.append("| of which slowed (foreground, sensors) | ").append(words(time.getDouble("slowedSeconds"))).append(" |\n");
    for (Map.Entry<String, Object> e : time.getJsonObject("waitingSeconds")) {
      md.append("| held: ").append(e.getKey()).append(" | ").append(words(((Number) e.getValue()).doubleValue())).append(" |\n");
    }
    md.append("\n## Windows\n\nSchedule: ").append(r.getJsonObject("windows").getString("schedule")).append("\n\n");
    JsonArray used = r.getJsonObject("windows").getJsonArray("used");
    if (used.isEmpty()) {
      md.append("No copying was recorded hour by hour.\n");
    } else {
      md.append("| copied from | to | rows |\n|---|---|---|\n");
      for (int i = 0; i < used.size(); i++) {
        JsonObject u = used.getJsonObject(i);
        md.append("| ").append(u.getString("from")).append(" | ").append(u.getString("to"))
            .append(String.format(Locale.ROOT, " | %,d |%n", u.getLong("rows")));
      }
    }
    md.append("\n## Rate over time\n\n");
    JsonArray hours = rate.getJsonArray("hours");
    if (hours.isEmpty()) {
      md.append("No hourly record.\n");
    } else {
      md.append("| hour (UTC) | rows | rows/s while running | held |\n|---|---|---|---|\n");
      for (int i = 0; i < hours.size(); i++) {
        JsonObject h = hours.getJsonObject(i);
        md.append("| ").append(h.getString("hour")).append(String.format(Locale.ROOT, " | %,d | ", h.getLong("rows")))
            .append(rate(h.getValue("rowsPerSecond"))).append(" | ").append(words(h.getDouble("waitSeconds"))).append(" |\n");
      }
    }
    JsonObject retries = r.getJsonObject("retries");
    md.append("\n## Retries\n\n").append(retries.getInteger("total")).append(" transient errors retried");
    if (retries.getInteger("total") > 0) {
      md.append(":\n\n| error class | retries |\n|---|---|\n");
      for (Map.Entry<String, Object> e : retries.getJsonObject("byClass")) md.append("| ").append(e.getKey()).append(" | ").append(e.getValue()).append(" |\n");
    } else {
      md.append(".\n");
    }
    JsonObject segs = r.getJsonObject("segments");
    md.append("\n## Segments\n\n");
    for (Map.Entry<String, Object> e : segs.getJsonObject("byState")) md.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append("\n");
    md.append("- split while copying: ").append(segs.getInteger("splits")).append("\n");
    JsonArray parked = segs.getJsonArray("parked");
    md.append("\nParked (failed) segments: ").append(parked.size()).append(parked.isEmpty() ? ".\n" : "\n\n");
    for (int i = 0; i < parked.size(); i++) {
      JsonObject p = parked.getJsonObject(i);
      md.append("- segment ").append(p.getValue("segment")).append(" at ").append(p.getString("at")).append(": ").append(p.getString("error")).append("\n");
    }
    JsonArray repaired = segs.getJsonArray("repaired");
    md.append("\nRepaired segments: ").append(repaired.size()).append(repaired.isEmpty() ? ".\n" : "\n\n");
    for (int i = 0; i < repaired.size(); i++) {
      JsonObject p = repaired.getJsonObject(i);
      md.append("- segment ").append(p.getValue("segment")).append(": ").append(p.getString("how")).append("\n");
    }
    JsonObject v = r.getJsonObject("verification");
    md.append("\n## Verification\n\n- segments verified: ").append(v.getValue("segmentsVerified")).append(", failed: ")
        .append(v.getValue("segmentsFailed")).append("\n- re-copied after a mismatch: ").append(v.getValue("mismatchesRecopied")).append("\n");
    if (v.getBoolean("finalPass", false)) {
      md.append(String.format(Locale.ROOT, "- final pass: %,d rows in %s segments; %s mismatches found, %s repaired, %s unrepaired; "
          + "%s checks failed; %s sampled rows compared, %s differences%n", v.getLong("rows", 0L), v.getValue("segments"),
          v.getValue("mismatches"), v.getValue("repaired"), v.getValue("unrepaired"), v.getValue("checksFailed"),
          v.getValue("sampledRows"), v.getValue("sampleDifferences")));
    } else {
      md.append("- final pass: not run\n");
    }
    JsonObject c = r.getJsonObject("capture");
    md.append("\n## Capture\n\n- lag peak: ").append(words(c.getDouble("lagPeakSeconds")))
        .append(String.format(Locale.ROOT, "%n- changes applied: %,d%n", c.getLong("changesApplied")));
    JsonArray cv = r.getJsonArray("configVersions");
    md.append("\n## Config versions applied\n\n");
    if (cv.isEmpty()) md.append("None recorded.\n");
    for (int i = 0; i < cv.size(); i++) {
      JsonObject x = cv.getJsonObject(i);
      md.append("- #").append(x.getValue("id")).append(" ").append(x.getString("hash")).append(" at ").append(x.getString("appliedAt"))
          .append(" (").append(x.getString("cause")).append(")\n");
    }
    return md.toString();
  }

  private static String or(String s) {
    return s == null ? "unknown" : s;
  }

  private static String rate(Object v) {
    return v == null ? "n/a" : String.format(Locale.ROOT, "%,.0f", ((Number) v).doubleValue());
  }

  private static String words(double seconds) {
    return dev.sluice.traffic.Durations.words(seconds);
  }
}
