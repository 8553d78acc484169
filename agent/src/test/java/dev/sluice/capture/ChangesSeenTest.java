package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.plan.ColdFirst;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cold-first order's evidence from real captured writes, against a real PostgreSQL: a job with
 * trigger capture, held by a closed window (its segments pending), gets writes to one key range of
 * the source; the change applier takes the changelog's entries and counts them on the segments
 * holding their keys ({@code sluice.segments.changes_seen}): the written segment gets at least one
 * per distinct key written, every other segment none, and the ranking then marks it hot.
 */
class ChangesSeenTest {
  private static final int KEYS = 120;
  private static final int ROUNDS = 3;
  private final TestPg pg = TestPg.get();

  @Test
  void theApplierCountsCapturedChangesOnTheSegmentsHoldingTheirKeys() throws Exception {
    String src = pg.createDatabase("cssrc");
    String tgt = pg.createDatabase("cstgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 4000) g",
        "ANALYZE items");
    DayOfWeek day = Instant.now().atZone(ZoneOffset.UTC).getDayOfWeek().plus(2);
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 500}, "capture": {"mode": "trigger", "pollMs": 100},
                   "schedule": {"timeZone": "UTC", "windows": [{"days": ["%s"], "start": "01:00", "end": "02:00"}]}}]}
        """.formatted(pg.url(src), pg.url(tgt), day.name().substring(0, 3).toLowerCase()));
    try {
      Eventually.until(Duration.ofSeconds(30), "the job planned, capture installed",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items'") >= 6
              && pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.items'::regclass AND NOT tgisinternal") > 0);
      long segments = pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items'");
      assertEquals(0, pg.scalar(tgt, "SELECT coalesce(sum(changes_seen), 0) FROM sluice.segments WHERE job = 'items'"), "nothing seen yet");
      String third = "FROM sluice.segments WHERE job = 'items' ORDER BY lower_bound[1]::bigint NULLS FIRST OFFSET 3 LIMIT 1";
      long hot = pg.scalar(tgt, "SELECT seq " + third);
      long lo = pg.scalar(tgt, "SELECT lower_bound[1]::bigint " + third);
      long hi = pg.scalar(tgt, "SELECT upper_bound[1]::bigint " + third);
      assertTrue(hi - lo > KEYS + 1, "segment " + hot + " [" + lo + ", " + hi + ") holds " + KEYS + " keys");

      // Real writes, each of KEYS distinct keys inside that range changed ROUNDS times; the trigger captures them.
      for (int i = 0; i < ROUNDS; i++) {
        pg.exec(src, "UPDATE items SET qty = qty + 1 WHERE id > " + lo + " AND id <= " + (lo + KEYS));
      }
      Eventually.until(Duration.ofSeconds(30), "the applier counted the captured changes",
          () -> pg.scalar(tgt, "SELECT coalesce(sum(changes_seen), 0) FROM sluice.segments WHERE job = 'items'") >= KEYS
              && pg.scalar(src, "SELECT count(*) FROM " + CaptureSql.changelog("items")) == 0);
      long seen = pg.scalar(tgt, "SELECT changes_seen FROM sluice.segments WHERE job = 'items' AND seq = " + hot);
      assertTrue(seen >= KEYS && seen <= (long) KEYS * ROUNDS, "the written segment's changes: " + seen);
      assertEquals(0, pg.scalar(tgt, "SELECT coalesce(sum(changes_seen), 0) FROM sluice.segments WHERE job = 'items' AND seq <> " + hot),
          "the cold segments saw nothing");
      assertEquals(segments, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'pending'"),
          "nothing copied (window closed)");

      // The ranking reads them: the written segment is hot, the others are not.
      Eventually.until(Duration.ofSeconds(20), "the written segment ranked hot",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq = " + hot + " AND heat >= " + ColdFirst.HOT) == 1);
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq <> " + hot + " AND heat >= " + ColdFirst.HOT));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
