package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A job in logical mode, in one agent: inserts, updates (of the key too) and deletes made across the
 * key space while the copy runs reach the target through the slot, and no trigger is installed; the
 * mode is recorded; once completed, the slot and the publication are gone (an unread slot would hold
 * WAL on the source) and the table is equal.
 */
class LogicalModeTest {
  private final TestPg pg = TestPg.get();

  @Test
  void writesDuringTheCopyArriveThroughTheSlot() throws Exception {
    String src = pg.createDatabase("lm_src");
    String tgt = pg.createDatabase("lm_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 20000) g");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true},
           "segment": {"rows": 2000}, "batch": {"rows": 500}, "concurrency": {"max": 2},
           "pace": {"rowsPerSecond": 4000},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(pg.url(src), pg.url(tgt));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    Agent agent = Agents.start(config);
    Thread writer = new Thread(() -> Writes.random(pg, src, 25_000, stop, writes), "test-writer");
    try {
      writer.start();
      Writes.waitFor(() -> "in_sync".equals(state(tgt)) && writes.get() > 500, 180);
      assertEquals(1, pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_items'"));
      assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sluice_capture_items%'"));
      stop.set(true);
      writer.join();
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      stop.set(true);
      writer.join();
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    assertTrue(n > 5_000, "rows compared: " + n);
    assertTrue(writes.get() > 500, "writes made during the migration: " + writes.get());
    assertEquals("logical", pg.string(tgt, "SELECT capture_mode FROM sluice.jobs WHERE name = 'items'"));
    assertTrue(pg.scalar(tgt, "SELECT sum(changes_after_copy) FROM sluice.segments WHERE job = 'items'") > 0);
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_items'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_publication WHERE pubname = 'sluice_items'"));
  }

  private String state(String tgt) {
    try {
      return pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'");
    } catch (IllegalStateException e) {
      return "";
    }
  }
}
