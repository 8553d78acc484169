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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The race of docs/consistency.md "How each change is ordered against each segment's snapshot", in
 * logical mode, made to happen: writes to the changelog are held back (a test session locks it) while
 * a writer changes rows across the key space and segments are copied and verified. The first key of a
 * segment being copied must wait in the changelog: the applier's record of it (the reader handed it
 * over, DirectKeys) or the reader's own waits for the lock, and so does every key read after it.
 * Keys therefore reach the applier after their segments' snapshots, and many after their segments
 * were verified; some changes were committed before a snapshot, some after. Once the lock goes, the
 * applier applies them by the segments' states, and the tables end equal.
 */
class LogicalOrderTest {
  private final TestPg pg = TestPg.get();

  @Test
  void entriesArrivingAfterTheirSegmentsWereCopiedAreAppliedAndNoneLost() throws Exception {
    String src = pg.createDatabase("lo_src");
    String tgt = pg.createDatabase("lo_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 6000) g",
        // The changelog as Sluice creates it (CREATE TABLE IF NOT EXISTS keeps this one), so it can be locked before the agent starts.
        "CREATE SCHEMA sluice", "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true},
           "segment": {"rows": 1000}, "batch": {"rows": 250}, "concurrency": {"max": 1},
           "pace": {"rowsPerSecond": 1500},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(pg.url(src), pg.url(tgt));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    Thread writer = new Thread(() -> Writes.random(pg, src, 6500, stop, writes), "test-writer");
    Agent agent = null;
    try (Connection lock = pg.connect(src); Statement s = lock.createStatement()) {
      lock.setAutoCommit(false);
      // EXCLUSIVE: the reader's COPY waits; reads of the changelog (the applier's, this test's) do not.
      s.execute("LOCK TABLE sluice.changes_items IN EXCLUSIVE MODE");
      agent = Agents.start(config);
      writer.start();
      Writes.waitFor(() -> verified(tgt) >= 4 && writes.get() > 300, 120);
      assertEquals(0, pg.scalar(src, "SELECT count(*) FROM sluice.changes_items"),
          "no entry reached the changelog while segments were copied and verified");
      assertEquals(1, pg.scalar(src, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND application_name IN ('sluice-capture', 'sluice-source', 'sluice-applier-source')"), "the reader, or the applier for it, waits to record keys");
      lock.rollback(); // the entries arrive now, after their segments' snapshots
      Writes.waitFor(() -> writes.get() > 600, 120);
      stop.set(true);
      writer.join();
      Map<String, JobState> states = Await.result(agent.untilDone(), 3, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      stop.set(true);
      writer.join();
      if (agent != null) Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    assertTrue(pg.scalar(tgt, "SELECT sum(changes_after_copy) FROM sluice.segments WHERE job = 'items'") > 0,
        "entries were applied to segments already copied");
    assertEquals(0, pg.scalar(tgt, "SELECT (verify_report->>'unrepaired')::int FROM sluice.jobs WHERE name = 'items'"));
  }

  private long verified(String tgt) {
    try {
      return pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'");
    } catch (IllegalStateException e) {
      return 0;
    }
  }
}
