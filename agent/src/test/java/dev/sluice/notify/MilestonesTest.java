package dev.sluice.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.notify.Milestones.AuditEvent;
import dev.sluice.notify.Milestones.JobView;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MilestonesTest {
  static final Instant T0 = Instant.parse("2024-01-01T10:00:00Z");

  static JobView view(long done, String wait) {
    return new JobView("orders", "copying", done, 1000, wait, wait == null ? null : "because " + wait);
  }

  static List<String> kinds(List<NotifyEvent> es) {
    return es.stream().map(NotifyEvent::key).toList();
  }

  @Test
  void startedOnceThenEachQuarterOnceAndTheHighestWhenSeveralAreCrossed() {
    Milestones m = new Milestones("orders", Duration.ofMinutes(10));
    assertEquals(List.of("started"), kinds(m.tick(T0, view(0, null))));
    assertEquals(List.of(), kinds(m.tick(T0.plusSeconds(1), view(249, null))));
    assertEquals(List.of("progress/25"), kinds(m.tick(T0.plusSeconds(2), view(250, null))));
    assertEquals(List.of(), kinds(m.tick(T0.plusSeconds(3), view(300, null))));
    List<NotifyEvent> jump = m.tick(T0.plusSeconds(4), view(800, null));
    assertEquals(List.of("progress/75"), kinds(jump));
    assertEquals("job orders is 75% copied (800 of 1,000 rows)", jump.get(0).message());
    assertEquals(List.of(), kinds(m.tick(T0.plusSeconds(5), view(1000, null))), "100% is the completed event's");
  }

  @Test
  void heldLongerThanTheLimitIsToldOnceASpellAndWindowsAreNotNews() {
    Milestones m = new Milestones("orders", Duration.ofMinutes(10));
    m.tick(T0, view(0, null));
    List<String> all = new ArrayList<>();
    for (int s = 1; s <= 1300; s += 60) all.addAll(kinds(m.tick(T0.plusSeconds(s), view(0, "health"))));
    assertEquals(List.of("throttled/" + T0.plusSeconds(1).toEpochMilli()), all);
    m.tick(T0.plusSeconds(1400), view(0, null));
    List<NotifyEvent> paused = new ArrayList<>();
    for (int s = 1401; s <= 2100; s += 60) paused.addAll(m.tick(T0.plusSeconds(s), view(0, "paused")));
    assertEquals(1, paused.size());
    assertEquals(NotifyEvent.PAUSED, paused.get(0).kind());
    assertEquals("job orders paused for 10 min: because paused", paused.get(0).message());
    Milestones w = new Milestones("orders", Duration.ofMinutes(10));
    for (int s = 0; s < 7200; s += 60) assertTrue(m != null && kinds(w.tick(T0.plusSeconds(s), view(0, "window"))).stream().noneMatch(k -> k.startsWith("throttled")));
  }

  @Test
  void auditEventsBecomeMilestones() {
    Milestones m = new Milestones("orders", Duration.ofMinutes(10));
    NotifyEvent parked = m.audit(T0, new AuditEvent(41, "segment.failed", 7, "segment 7 failed: 23505 duplicate key", null));
    assertEquals(NotifyEvent.SEGMENT_PARKED, parked.kind());
    assertEquals("segment_parked/41", parked.key());
    NotifyEvent verified = m.audit(T0, new AuditEvent(42, "job.verify_report", null, "report",
        new JsonObject().put("rows", 1_000_000L).put("segments", 20).put("repaired", 2).put("unrepaired", 0).put("checksFailed", 0)));
    assertEquals("job orders verified: 1,000,000 rows in 20 segments match (2 mismatches found and repaired)", verified.message());
    assertEquals(true, verified.details().getBoolean("passed"));
    assertEquals(NotifyEvent.COMPLETED, m.audit(T0, new AuditEvent(43, "job.completed", null, "job orders completed", null)).kind());
    assertEquals(NotifyEvent.ROLLED_BACK, m.audit(T0, new AuditEvent(44, "job.rolled_back", null, "x", null)).kind());
    assertEquals(NotifyEvent.ABORTED, m.audit(T0, new AuditEvent(45, "job.aborted", null, "x", null)).kind());
    assertEquals(NotifyEvent.IN_SYNC, m.audit(T0, new AuditEvent(46, "job.in_sync", null, "x", null)).kind());
    assertNull(m.audit(T0, new AuditEvent(47, "segment.copied", 1, "x", null)));
  }
}
