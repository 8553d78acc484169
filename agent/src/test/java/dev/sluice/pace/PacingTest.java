package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Against a real PostgreSQL: the rate is honoured, and segments are cut at the transaction time cap. The
 * foreground control is off here: on a loaded machine its probe noise lowers the rate, which is its job,
 * not the token bucket's.
 */
class PacingTest {
  private final TestPg pg = TestPg.get();

  @Test
  void rateIsHonouredWithinTenPercent() {
    String src = pg.createDatabase("pace_src");
    String tgt = pg.createDatabase("pace_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 30000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"intervalMs": 200, "probe": {"maxMs": 60000}, "foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 10000}, "batch": {"rows": 200, "minRows": 50},
                   "pace": {"rowsPerSecond": 2000, "burstRows": 200}, "concurrency": {"min": 2, "max": 2}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    try {
      Migrator m = agent.migrators().get("items");
      Eventually.until(Duration.ofSeconds(10), "copying to start", () -> m.stats().rows() > 0);
      Eventually.pause(1000);
      long r0 = m.stats().rows();
      long t0 = System.nanoTime();
      Eventually.pause(5000);
      long r1 = m.stats().rows();
      double rate = (r1 - r0) / ((System.nanoTime() - t0) / 1e9);
      assertEquals(2000, rate, 200, "rows/s over a 5 s window");

      m.setRate(null, 200); // the rest at full speed
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(30000, Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name)::text FROM items ORDER BY id"));
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE state <> 'verified'"));
  }

  @Test
  void aSegmentLongerThanTheTransactionCapIsCutAndTheRestCopiedAsANewSegment() {
    String src = pg.createDatabase("cut_src");
    String tgt = pg.createDatabase("cut_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 4000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 4000, "maxSeconds": 1}, "batch": {"rows": 100, "minRows": 50},
                   "pace": {"rowsPerSecond": 1500, "burstRows": 100}, "concurrency": {"max": 1}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    try {
      Eventually.until(Duration.ofSeconds(30), "a segment cut at the cap",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'segment.split'") >= 1);
      agent.migrators().get("items").setRate(null, 100); // the rest, and the final pass, at full speed
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(4000, Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name)::text FROM items ORDER BY id"));
    long cuts = pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'segment.split'");
    assertTrue(cuts >= 1, "a segment copied for more than a second was cut: " + cuts);
    assertEquals(1 + cuts, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE state = 'verified'"));
    assertEquals(1 + cuts, pg.scalar(tgt, "SELECT segments_planned FROM sluice.jobs"));
    assertEquals(4000, pg.scalar(tgt, "SELECT sum(rows_copied) FROM sluice.segments"));
  }
}
