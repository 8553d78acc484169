package dev.sluice.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.report.ReportInput.ConfigVersion;
import dev.sluice.report.ReportInput.Event;
import dev.sluice.traffic.JobHour;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportBuilderTest {
  static final Instant T0 = Instant.parse("2024-01-02T01:00:00Z");

  static Event ev(long id, String kind, Integer seg, String msg) {
    return new Event(id, T0.plusSeconds(id), kind, seg, msg, null);
  }

  static ReportInput input() {
    List<JobHour> hours = List.of(
        new JobHour("orders", T0, 3_600_000, 100, 3600, 600, Map.of(), 0, 0, 2.5),
        new JobHour("orders", T0.plusSeconds(3600), 1_800_000, 50, 1800, 0, Map.of("health", 600.0, "paused", 1200.0), 0, 0, 7.0),
        new JobHour("orders", T0.plusSeconds(3 * 3600), 600_000, 20, 600, 0, Map.of("window", 3000.0), 0, 0, 1.0));
    List<Event> events = List.of(
        ev(1, "segment.retry", 3, "segment 3 will retry in 120 ms: 57014 canceling statement due to statement timeout"),
        ev(2, "segment.retry", 4, "segment 4 will retry in 50 ms: 08006 connection failure"),
        ev(3, "segment.retry", 3, "segment 3 will retry in 90 ms: 57014 canceling statement due to statement timeout"),
        ev(4, "segment.retry", 5, "segment 5 will retry in 10 ms: VertxException: Connection was closed"),
        ev(5, "segment.failed", 7, "segment 7 failed: 22003 numeric field overflow"),
        ev(6, "segment.copying", 9, "segment 9 re-copying: verification mismatch (source 10 rows, target 9 rows)"),
        ev(7, "segment.verified", 9, "segment 9 verified: 10 rows, hashes equal"),
        ev(8, "segment.pending", 7, "segment 7 queued for retry by cli"),
        ev(9, "segment.verified", 7, "segment 7 verified"),
        ev(10, "segment.split", 2, "segment 2 cut after 100 rows"));
    JsonObject verify = new JsonObject().put("rows", 6_000_000L).put("segments", 120).put("mismatches", 1).put("repaired", 1)
        .put("unrepaired", 0).put("checksFailed", 0).put("sampledRows", 600L).put("sampleDifferences", 0);
    return new ReportInput("orders", "completed", null, T0, T0.plusSeconds(4 * 3600), 6_000_000, 6_000_000, 1234,
        Map.of("verified", 120), hours, events, verify, List.of(new ConfigVersion(3, "ab12cd", T0.plusSeconds(60), "reload")),
        "every day 01:00-05:00 UTC");
  }

  @Test
  void durationRowsRateTimeAndWindows() {
    JsonObject r = ReportBuilder.build(input());
    assertEquals(14_400.0, r.getDouble("durationSeconds"));
    assertEquals(416.7, r.getJsonObject("rate").getDouble("averageRowsPerSecond"), "6M rows over 4 h");
    assertEquals(1000.0, r.getJsonObject("rate").getDouble("runningRowsPerSecond"), "6M rows over 6,000 s of run time");
    assertEquals(T0.toString(), r.getJsonObject("rate").getJsonObject("peakHour").getString("hour"));
    JsonObject time = r.getJsonObject("time");
    assertEquals(6000.0, time.getDouble("runSeconds"));
    assertEquals(600.0, time.getDouble("slowedSeconds"));
    assertEquals(new JsonObject().put("health", 600.0).put("paused", 1200.0).put("window", 3000.0), time.getJsonObject("waitingSeconds"));
    assertEquals(2, r.getJsonObject("windows").getJsonArray("used").size(), "01:00-03:00 and 04:00-05:00");
    assertEquals(5_400_000L, r.getJsonObject("windows").getJsonArray("used").getJsonObject(0).getLong("rows"));
    assertEquals(7.0, r.getJsonObject("capture").getDouble("lagPeakSeconds"));
  }

  @Test
  void retriesByErrorClassAndParkedAndRepairedSegments() {
    JsonObject r = ReportBuilder.build(input());
    JsonObject retries = r.getJsonObject("retries");
    assertEquals(4, retries.getInteger("total"));
    assertEquals(new JsonObject().put("57 operator intervention", 2).put("08 connection exception", 1).put("no SQLSTATE (VertxException)", 1),
        retries.getJsonObject("byClass"));
    assertEquals(2, retries.getJsonObject("byCode").getInteger("57014"));
    JsonObject segs = r.getJsonObject("segments");
    assertEquals(1, segs.getJsonArray("parked").size());
    assertEquals(7, segs.getJsonArray("parked").getJsonObject(0).getInteger("segment"));
    assertEquals(2, segs.getJsonArray("repaired").size());
    assertEquals("parked, retried and verified", segs.getJsonArray("repaired").getJsonObject(0).getString("how"));
    assertEquals(9, segs.getJsonArray("repaired").getJsonObject(1).getInteger("segment"));
    assertEquals(1, segs.getInteger("splits"));
    assertEquals(1L, r.getJsonObject("verification").getLong("mismatchesRecopied"));
    assertEquals(true, r.getJsonObject("verification").getBoolean("finalPass"));
  }

  @Test
  void markdownHasEverySection() {
    String md = ReportMarkdown.render(ReportBuilder.build(input()));
    assertTrue(md.startsWith("# Sluice report: job orders\n"));
    for (String s : List.of("- Outcome: **completed**", "- Duration: 4 h", "- Rows: 6,000,000 copied of 6,000,000 planned; 1,234 captured changes applied",
        "| held: paused | 20 min |", "Schedule: every day 01:00-05:00 UTC", "| 57 operator intervention | 2 |",
        "- segment 7 at 2024-01-02T01:00:05Z: segment 7 failed: 22003 numeric field overflow",
        "- segment 9: re-copied after a verification mismatch, then verified", "- final pass: 6,000,000 rows in 120 segments",
        "- lag peak: 7 s", "- #3 ab12cd at 2024-01-02T01:01:00Z (reload)")) {
      assertTrue(md.contains(s), "missing: " + s + "\n" + md);
    }
  }
}
