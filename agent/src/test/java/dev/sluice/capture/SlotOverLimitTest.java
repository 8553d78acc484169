package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A job's slot forced over its WAL limit: the reader is stuck while rows change and WAL piles up (the
 * keys it hands to the applier wait on a lock on the target table, and its changelog writes on a lock
 * on the changelog). The slot is dropped and created afresh; the changes made
 * in between reached no changelog, so the job records {@code capture.slot_replaced}, the final pass
 * runs again, repairs those rows from a fresh read of the source, and the job completes equal.
 */
class SlotOverLimitTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aSlotOverItsLimitIsReplacedAndWhatItCoveredVerifiedAgain() throws Exception {
    String src = pg.createDatabase("so_src");
    String tgt = pg.createDatabase("so_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, 0 FROM generate_series(1, 4000) g",
        "CREATE SCHEMA sluice", "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true}, "segment": {"rows": 1000},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20,
                       "slotThrottleMb": 48, "slotPauseMb": 64, "slotDropMb": 96}}]}""".formatted(pg.url(src), pg.url(tgt));
    Agent agent = Agents.start(config);
    try (Connection lock = pg.connect(src); Statement s = lock.createStatement();
         Connection targetLock = pg.connect(tgt); Statement t = targetLock.createStatement()) {
      // In sync and verified once: what comes next must be found by a pass that runs again.
      Writes.waitFor(() -> state(tgt).equals("in_sync") && pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' "
          + "AND verify_report IS NOT NULL") == 1, 120);
      lock.setAutoCommit(false);
      s.execute("LOCK TABLE sluice.changes_items IN EXCLUSIVE MODE");
      targetLock.setAutoCommit(false);
      t.execute("LOCK TABLE items IN EXCLUSIVE MODE");
      pg.exec(src, "UPDATE items SET qty = -1 WHERE id = 1");
      Writes.waitFor(() -> pg.scalar("postgres", "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND application_name IN ('sluice-capture', 'sluice-source', 'sluice-target', 'sluice-applier-source', 'sluice-applier-target')") >= 1, 60);
      // The reader is stuck recording key 1: these changes stay in the WAL its slot holds.
      pg.exec(src, "UPDATE items SET qty = qty + 1000 WHERE id % 97 = 0");
      pg.exec(src, "SELECT count(pg_logical_emit_message(false, 'sluice.test.noise', repeat('x', 1048576))) FROM generate_series(1, 130)");
      Writes.waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'capture.slot_replaced'")
          == 1, 120);
      lock.rollback();
      targetLock.rollback();
      Map<String, JobState> states = Await.result(agent.untilDone(), 3, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    String why = pg.string(tgt, "SELECT message FROM sluice.events WHERE job = 'items' AND kind = 'capture.slot_replaced'");
    assertTrue(why.contains("slot sluice_items retains") && why.contains("at or over its limit of 96 MB")
        && why.contains("verified again"), why);
    Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    // The rows changed while the old slot was stuck were found and repaired by the pass that ran again.
    assertTrue(pg.scalar(tgt, "SELECT (verify_report->>'repaired')::int FROM sluice.jobs WHERE name = 'items'") >= 41,
        pg.string(tgt, "SELECT verify_report::text FROM sluice.jobs WHERE name = 'items'"));
    assertEquals(0, pg.scalar(tgt, "SELECT (verify_report->>'unrepaired')::int FROM sluice.jobs WHERE name = 'items'"));
  }

  private String state(String tgt) {
    try {
      return pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'");
    } catch (IllegalStateException e) {
      return "";
    }
  }
}
