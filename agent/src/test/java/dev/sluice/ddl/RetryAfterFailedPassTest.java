package dev.sluice.ddl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The operator's answer to a loud failure, while the agent that failed the job keeps running (a
 * sidecar, no {@code --until-done}): the final pass parks the segments a target TRUNCATE emptied, the
 * job fails, a retry re-queues them, and the same agent copies them again, catches up (its change
 * applier, stopped when the job failed, applies again: a row written meanwhile arrives) and completes.
 */
class RetryAfterFailedPassTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aJobFailedByTheFinalPassIsRetriedAndCompletedByTheAgentStillRunningIt() {
    String src = pg.createDatabase("rfp_src");
    String tgt = pg.createDatabase("rfp_tgt");
    pg.exec(src, "CREATE TABLE items (id int PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 6000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false}, "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
           "segment": {"rows": 1000}, "batch": {"rows": 500}, "concurrency": {"max": 1}, "pace": {"rowsPerSecond": 4000},
           "capture": {"pollMs": 100}, "drift": {"intervalMs": 200}}]}""".formatted(pg.url(src), pg.url(tgt)));
    try {
      String state = "SELECT state FROM sluice.jobs WHERE name = 'items'";
      Eventually.until(Duration.ofSeconds(60), "two segments verified", () -> pg.scalar(tgt,
          "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'") >= 2);
      pg.exec(tgt, "TRUNCATE items");
      // Completion asked for only now: a capture job does not complete by itself, so the pass cannot run before the TRUNCATE.
      agent.untilDone();
      Eventually.until(Duration.ofSeconds(60), "the job failed", () -> "failed".equals(pg.string(tgt, state)));
      assertTrue(pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'failed'") >= 2);
      // Each emptied segment lacked 1,000 rows: more than the pass repairs in one (100). Said so, not "100 repaired, 100 not repaired".
      assertEquals(pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'failed'"),
          pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'failed' AND last_error = "
              + "'more rows differ from the source than the final pass repairs in a segment (100): 100 repaired, at least 100 more differ; "
              + "`sluice retry` copies the segment again'"), pg.strings(tgt, "SELECT last_error FROM sluice.segments WHERE state = 'failed'").toString());
      String report = pg.string(tgt, "SELECT message FROM sluice.events WHERE job = 'items' AND kind = 'job.verify_report' ORDER BY id DESC LIMIT 1");
      assertTrue(report != null && report.contains(" not repaired (at least: in ") && report.contains("`sluice retry` copies them again)"), report);
      String why = pg.string(tgt, "SELECT reason FROM sluice.jobs WHERE name = 'items'");
      assertTrue(why.startsWith("final verification: at least ") && why.contains(" segment(s) with more differences than the pass repairs "
          + "in one: `sluice retry` copies them again)"), why);
      assertTrue(pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'table.rewritten' "
          + "AND message LIKE 'target table public.items was rewritten or truncated%'") >= 1);

      pg.exec(src, "UPDATE items SET name = 'written while failed' WHERE id = 1");
      assertTrue(Await.result(agent.migrators().get("items").retry(null, "test")) >= 2);
      Eventually.until(Duration.ofSeconds(90), "the job completed after the retry", () -> "completed".equals(pg.string(tgt, state)));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals("written while failed", pg.string(tgt, "SELECT name FROM items WHERE id = 1"));
    assertEquals(6000, Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name)::text FROM items ORDER BY id"));
  }
}
