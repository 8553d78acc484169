package dev.sluice.report;

import dev.sluice.traffic.JobHour;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a job's final report (JSON; {@link ReportMarkdown} prints it) from a {@link ReportInput}:
 * duration, rows, the rate hour by hour, time spent running, slowed and held (by reason), the
 * windows it actually copied in, retries by error class (the SQLSTATE class of each
 * {@code segment.retry}), parked and repaired segments, verification, the capture lag's peak and the
 * config versions applied. Pure.
 */
public final class ReportBuilder {
  private static final Pattern RETRY = Pattern.compile("will retry in \\d+ ms: (.*)$", Pattern.DOTALL);
  private static final Pattern SQLSTATE = Pattern.compile("^([0-9A-Z]{5}) ");
  private static final Map<String, String> CLASSES = Map.ofEntries(
      Map.entry("08", "connection exception"), Map.entry("22", "data exception"), Map.entry("23", "integrity constraint violation"),
      Map.entry("25", "invalid transaction state"), Map.entry("40", "transaction rollback"), Map.entry("42", "syntax error or access rule violation"),
      Map.entry("53", "insufficient resources"), Map.entry("55", "object not in prerequisite state"), Map.entry("57", "operator intervention"),
      Map.entry("58", "system error"), Map.entry("XX", "internal error"));

  private ReportBuilder() {}

  public static JsonObject build(ReportInput in) {
    JsonObject r = new JsonObject().put("job", in.job()).put("outcome", in.outcome()).put("reason", in.reason())
        .put("startedAt", str(in.startedAt())).put("finishedAt", str(in.finishedAt()));
    double duration = in.startedAt() == null || in.finishedAt() == null ? Double.NaN
        : Duration.between(in.startedAt(), in.finishedAt()).toMillis() / 1000.0;
    r.put("durationSeconds", num(duration));
    r.put("rows", new JsonObject().put("planned", in.rowsPlanned()).put("copied", in.rowsCopied()).put("changesApplied", in.changesApplied()));
    List<JobHour> hours = new ArrayList<>(in.hours());
    hours.sort(Comparator.comparing(JobHour::hour));
    r.put("rate", rate(in, hours, duration));
    r.put("time", time(hours));
    r.put("windows", new JsonObject().put("schedule", in.schedule()).put("used", windowsUsed(hours)));
    r.put("retries", retries(in.events()));
    r.put("segments", segments(in));
    JsonObject v = in.verifyReport() == null ? new JsonObject().put("finalPass", false) : in.verifyReport().copy().put("finalPass", true);
    v.put("segmentsVerified", in.segments().getOrDefault("verified", 0)).put("segmentsFailed", in.segments().getOrDefault("failed", 0))
        .put("mismatchesRecopied", in.events().stream().filter(ReportBuilder::isMismatchRecopy).count());
    r.put("verification", v);
    double lag = hours.stream().mapToDouble(JobHour::lagMaxSeconds).max().orElse(0);
    r.put("capture", new JsonObject().put("lagPeakSeconds", lag).put("changesApplied", in.changesApplied()));
    JsonArray cv = new JsonArray();
    for (ReportInput.ConfigVersion c : in.configs()) {
      cv.add(new JsonObject().put("id", c.id()).put("hash", c.hash()).put("appliedAt", str(c.appliedAt())).put("cause", c.cause()));
    }
    r.put("configVersions", cv);
    return r;
  }

  private static JsonObject rate(ReportInput in, List<JobHour> hours, double duration) {
    long rows = hours.stream().mapToLong(JobHour::rows).sum();
    double run = hours.stream().mapToDouble(JobHour::runSeconds).sum();
    JsonArray perHour = new JsonArray();
    JsonObject peak = null;
    for (JobHour h : hours) {
      JsonObject p = new JsonObject().put("hour", h.hour().toString()).put("rows", h.rows()).put("runSeconds", round(h.runSeconds()))
          .put("rowsPerSecond", num(h.achievedRate())).put("waitSeconds", round(h.waitedSeconds()));
      perHour.add(p);
      if (h.runSeconds() > 0 && (peak == null || h.achievedRate() > peak.getDouble("rowsPerSecond"))) peak = p;
    }
    return new JsonObject().put("averageRowsPerSecond", num(in.rowsCopied() / duration)).put("runningRowsPerSecond", num(rows / run))
        .put("peakHour", peak).put("hours", perHour);
  }

  private static JsonObject time(List<JobHour> hours) {
    Map<String, Double> wait = new TreeMap<>();
    double run = 0;
    double slowed = 0;
    for (JobHour h : hours) {
      run += h.runSeconds();
      slowed += h.slowedSeconds();
      h.waitSeconds().forEach((k, v) -> wait.merge(k, v, Double::sum));
    }
    JsonObject w = new JsonObject();
    wait.forEach((k, v) -> w.put(k, round(v)));
    return new JsonObject().put("runSeconds", round(run)).put("slowedSeconds", round(slowed)).put("waitingSeconds", w);
  }

  /** Runs of consecutive clock hours in which the job copied, with the rows of each. */
  private static JsonArray windowsUsed(List<JobHour> hours) {
    JsonArray out = new JsonArray();
    Instant from = null;
    Instant to = null;
    long rows = 0;
    for (JobHour h : hours) {
      if (h.runSeconds() <= 0) continue;
      if (to != null && h.hour().equals(to)) {
        to = h.hour().plusSeconds(3600);
        rows += h.rows();
        continue;
      }
      if (from != null) out.add(new JsonObject().put("from", from.toString()).put("to", to.toString()).put("rows", rows));
      from = h.hour();
      to = h.hour().plusSeconds(3600);
      rows = h.rows();
    }
    if (from != null) out.add(new JsonObject().put("from", from.toString()).put("to", to.toString()).put("rows", rows));
    return out;
  }

  static JsonObject retries(List<ReportInput.Event> events) {
    Map<String, Integer> byClass = new TreeMap<>();
    Map<String, Integer> byCode = new TreeMap<>();
    int total = 0;
    for (ReportInput.Event e : events) {
      if (!"segment.retry".equals(e.kind())) continue;
      total++;
      Matcher m = RETRY.matcher(e.message());
      String what = m.find() ? m.group(1) : e.message();
      Matcher s = SQLSTATE.matcher(what);
      String code;
      String cls;
      if (s.find()) {
        code = s.group(1);
        String c = code.substring(0, 2);
        cls = c + " " + CLASSES.getOrDefault(c, "other");
      } else {
        int colon = what.indexOf(':');
        code = colon > 0 ? what.substring(0, colon) : what;
        cls = "no SQLSTATE (" + code + ")";
      }
      byClass.merge(cls, 1, Integer::sum);
      byCode.merge(code, 1, Integer::sum);
    }
    return new JsonObject().put("total", total).put("byClass", new JsonObject(new HashMap<>(byClass))).put("byCode",
        new JsonObject(new HashMap<>(byCode)));
  }

  private static boolean isMismatchRecopy(ReportInput.Event e) {
    return "segment.copying".equals(e.kind()) && e.message() != null && e.message().contains("re-copying: verification mismatch");
  }

  private static JsonObject segments(ReportInput in) {
    Map<Integer, String> repaired = new TreeMap<>();
    Map<Integer, String> trouble = new HashMap<>();
    int splits = 0;
    JsonArray parked = new JsonArray();
    for (ReportInput.Event e : in.events()) {
      Integer seq = e.segment();
      switch (e.kind()) {
        case "segment.failed" -> {
          parked.add(new JsonObject().put("segment", seq).put("at", str(e.at())).put("error", e.message()));
          trouble.put(seq, "parked, retried and verified");
        }
        case "segment.split" -> splits++;
        case "segment.verified" -> {
          String how = trouble.remove(seq);
          if (how != null) repaired.put(seq, how);
        }
        default -> {
          if (isMismatchRecopy(e) && seq != null) trouble.putIfAbsent(seq, "re-copied after a verification mismatch, then verified");
        }
      }
    }
    JsonArray rep = new JsonArray();
    repaired.forEach((seq, how) -> rep.add(new JsonObject().put("segment", seq).put("how", how)));
    JsonObject byState = new JsonObject();
    new TreeMap<>(in.segments()).forEach(byState::put);
    return new JsonObject().put("byState", byState).put("parked", parked).put("parkedNow", in.segments().getOrDefault("failed", 0))
        .put("repaired", rep).put("splits", splits);
  }

  private static String str(Instant i) {
    return i == null ? null : i.toString();
  }

  private static Double num(double d) {
    return Double.isNaN(d) || Double.isInfinite(d) ? null : Math.round(d * 10) / 10.0;
  }

  private static double round(double d) {
    return Math.round(d * 10) / 10.0;
  }
}
