package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A table swap on the source mid-run: a new table filled and renamed into the job's table name, the
 * old one renamed away (how many teams rebuild a table). Change capture is bound to the old table
 * (its triggers, its publication: by oid) and the segments copied so far were read from it, so the
 * users' writes to the new table were never captured: the rewrite check saw new files and ran the
 * final pass again, which repaired at most 100 keys a segment, and the writes after that pass were
 * lost. The drift monitor now tells a swap from a rewrite by the table's oid, pauses the job with a
 * reason that says to roll it back, and a restart does not lift that pause (it lifts a schema drift's).
 */
class TableSwapTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aSourceTableSwappedMidRunPausesTheJobForGood() {
    String src = pg.createDatabase("sw_src");
    String tgt = pg.createDatabase("sw_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 8000) g");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false}, "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
           "segment": {"rows": 2000}, "concurrency": {"max": 1}, "pace": {"rowsPerSecond": 4000},
           "capture": {"pollMs": 100}, "drift": {"intervalMs": 200}}]}""".formatted(pg.url(src), pg.url(tgt));
    String reason = "SELECT pause_reason FROM sluice.jobs WHERE name = 'items' AND paused";
    long oid = pg.scalar(src, "SELECT 'items'::regclass::oid::bigint");
    Agent agent = Agents.start(config);
    try {
      Eventually.until(Duration.ofSeconds(60), "a segment verified",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'") >= 1);
      pg.exec(src, "CREATE TABLE items_new (LIKE items INCLUDING ALL)", "INSERT INTO items_new SELECT * FROM items",
          "BEGIN", "ALTER TABLE items RENAME TO items_old", "ALTER TABLE items_new RENAME TO items", "COMMIT");
      long now = pg.scalar(src, "SELECT 'items'::regclass::oid::bigint");
      String why = Eventually.value(Duration.ofSeconds(30), "the job paused", () -> pg.string(tgt, reason));
      assertEquals("table swapped: source table public.items is another table now (oid " + oid + " -> " + now + "; the old one is "
          + "items_old now). Change capture stays on the old table and the segments copied so far were read from it or written into it: "
          + "roll the job back (`sluice rollback`) and start it again", why);
      assertEquals("the drift monitor", pg.string(tgt, "SELECT paused_by FROM sluice.jobs WHERE name = 'items'"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    // A restart with a config that validates (the new table has the same columns) keeps the pause: the start has
    // decided (CatchUp.prepare lifts a schema drift's pause before Agents.start returns).
    Agent again = Agents.start(config);
    try {
      String why = pg.string(tgt, reason);
      assertTrue(why != null && why.startsWith("table swapped: "), String.valueOf(why));
    } finally {
      Await.result(again.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
