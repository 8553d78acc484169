package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The source freezes (a partition, a frozen host: no reset, no error) under a job in logical mode that
 * is in sync, while the source's users keep writing: the agent reaches the source only through a
 * {@link FreezingProxy}, the test's writer directly. The WAL reader finds its stream stalled within
 * twice the stall timeout and says so; once the proxy thaws it reads the slot again, and every change
 * made meanwhile arrives through the slot (the final pass repairs nothing, no slot is replaced).
 *
 * <p>The job is paused over the freeze, so the reader records keys in the changelog on the source
 * (its own session) rather than handing them to the applier: an applier mid-batch on the frozen
 * source holds the reader in the hand-over until its own stall timeout fails the batch
 * ({@link WatchedPool}, {@link ApplierStallTest}), a wait on Sluice's applier that the reader does not time.
 */
class StreamStallTest {
  private static final long STALL_MS = 2_000;
  private final TestPg pg = TestPg.get();

  @Test
  void aFrozenStreamIsFoundAndReadAgainFromTheSlotAfterTheThaw() throws Exception {
    String src = pg.createDatabase("ws_src");
    String tgt = pg.createDatabase("ws_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 5000) g");
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      String config = """
          {"source": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
           "health": {"foreground": {"enabled": false}}, "sessions": {"stallTimeoutMs": %d},
           "jobs": [{"name": "stalled", "source": {"table": "public.items", "key": ["id"]},
             "target": {"table": "public.items", "create": true},
             "segment": {"rows": 1000}, "batch": {"rows": 500}, "concurrency": {"max": 2}, "pace": {"rowsPerSecond": 5000},
             "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(proxy.port(), src, pg.url(tgt), STALL_MS);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong writes = new AtomicLong();
      Agent agent = Agents.start(config);
      Thread writer = new Thread(() -> Writes.random(pg, src, 6_000, stop, writes), "test-writer");
      try {
        writer.start();
        Writes.waitFor(() -> "in_sync".equals(state(tgt)) && writes.get() > 200, 120);
        Migrator job = agent.migrators().get("stalled");
        assertEquals(null, job.live().wal().lastReaderError(), "no reader failure before the freeze");
        Await.result(job.setPaused(true, "test", "test"), 30, TimeUnit.SECONDS);
        long entries = entriesEver(src);
        Writes.waitFor(() -> entriesEver(src) > entries + 50, 30); // the reader records keys on its session now
        long before = writes.get();
        long frozenAt = System.nanoTime();
        proxy.freeze();
        String error = Eventually.value(Duration.ofSeconds(30), "the stall reported", () -> job.live().wal().lastReaderError());
        double seconds = (System.nanoTime() - frozenAt) / 1e9;
        assertTrue(error.startsWith("the source's ") && error.contains(" stalled") && error.endsWith("(sessions.stallTimeoutMs 2000); reconnecting"),
            error);
        // A heartbeat at most one timeout after the last message, unanswered for one more, a timer tick, and slack for a loaded machine.
        assertTrue(seconds < 2 * STALL_MS / 1000.0 + 5, "found " + seconds + " s after the freeze: " + error);
        Eventually.until(Duration.ofSeconds(10), "writes while frozen", () -> writes.get() > before + 200);
        proxy.thaw();
        Await.result(job.setPaused(false, "test", "test"), 30, TimeUnit.SECONDS);
        long thawed = writes.get();
        Eventually.until(Duration.ofSeconds(60), "the slot read again and writes after the thaw", () -> writes.get() > thawed + 200
            && job.live().wal().reading());
        stop.set(true);
        writer.join();
        Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
        assertEquals(JobState.COMPLETED, states.get("stalled"));
      } finally {
        stop.set(true);
        writer.join();
        proxy.thaw();
        Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
    }
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    assertTrue(n > 1_000, "rows compared: " + n);
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'stalled' AND kind = 'capture.slot_replaced'"));
    assertEquals(0, pg.scalar(tgt, "SELECT coalesce((verify_report->>'repaired')::int, 0) FROM sluice.jobs WHERE name = 'stalled'"),
        "every change arrived through the slot: " + pg.string(tgt, "SELECT verify_report::text FROM sluice.jobs WHERE name = 'stalled'"));
  }

  /** Entries ever written to the changelog: its id sequence's position. */
  private long entriesEver(String src) {
    return pg.scalar(src, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sluice.changes_stalled_id_seq");
  }

  private String state(String tgt) {
    try {
      return pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'stalled'");
    } catch (IllegalStateException e) {
      return "";
    }
  }
}
