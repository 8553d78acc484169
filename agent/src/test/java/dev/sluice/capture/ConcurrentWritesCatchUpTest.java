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
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A writer on its own connection inserts, updates and deletes at random across the whole key space
 * (segments already copied included) while 100k rows are migrated; once the job is in sync, every
 * row of target and source is compared.
 */
// The foreground control is off: on a loaded machine (CI, parallel builds) its probe's noise alone
// slows the copy to 2% and the test times out; what it proves is catch-up, not pacing
// (ForegroundPaceTest and AdaptivePaceTest prove the control).
class ConcurrentWritesCatchUpTest {
  private final TestPg pg = TestPg.get();

  @Test
  void randomWritesDuringTheCopyAreCaughtUp() throws Exception {
    String src = pg.createDatabase("cw_src");
    String tgt = pg.createDatabase("cw_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 100000) g");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true},
           "segment": {"rows": 10000}, "batch": {"rows": 5000}, "concurrency": {"max": 2},
           "pace": {"rowsPerSecond": 40000},
           "capture": {"batchRows": 2000, "pollMs": 200, "inSyncRows": 50}}]}""".formatted(pg.url(src), pg.url(tgt));

    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    Agent agent = Agents.start(config);
    Thread writer = new Thread(() -> write(src, stop, writes), "test-writer");
    long started = System.nanoTime();
    try {
      writer.start();
      // Keep writing through the copy and until the job has caught up once (and the writer, slow on a
      // loaded machine, has made enough writes to matter).
      waitFor(() -> state(tgt).equals("in_sync") && writes.get() > 2_500, 180);
      long atSync = writes.get();
      Thread.sleep(1000); // in sync, still applying
      stop.set(true);
      writer.join();
      assertTrue(writes.get() > atSync, "the writer kept writing while in sync");
      long seconds = (System.nanoTime() - started) / 1_000_000_000L;
      System.out.printf("writer: %d writes in %d s (%d/s); in sync after %d writes%n", writes.get(), Math.max(1, seconds),
          writes.get() / Math.max(1, seconds), atSync);
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      stop.set(true);
      writer.join();
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    assertTrue(n > 75_000, "rows compared: " + n);
    assertTrue(writes.get() > 2_000, "writes made during the migration: " + writes.get());
    // Changes reached segments that were already verified, and nothing is left behind.
    assertTrue(pg.scalar(tgt, "SELECT sum(changes_after_copy) FROM sluice.segments WHERE job = 'items'") > 0);
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM sluice.changes_items"));
    assertEquals(0, pg.scalar(tgt, "SELECT (verify_report->>'unrepaired')::int FROM sluice.jobs WHERE name = 'items'"));
    System.out.println("changes applied: " + pg.scalar(tgt, "SELECT changes_applied FROM sluice.jobs WHERE name = 'items'")
        + "; report: " + pg.string(tgt, "SELECT verify_report::text FROM sluice.jobs WHERE name = 'items'"));
  }

  private void write(String db, AtomicBoolean stop, AtomicLong writes) {
    SplittableRandom rnd = new SplittableRandom(42);
    try (Connection c = pg.connect(db);
        PreparedStatement ins = c.prepareStatement("INSERT INTO items VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty");
        PreparedStatement upd = c.prepareStatement("UPDATE items SET name = name || '+', qty = ? WHERE id = ?");
        PreparedStatement del = c.prepareStatement("DELETE FROM items WHERE id = ?");
        PreparedStatement multi = c.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id BETWEEN ? AND ? + 20")) {
      while (!stop.get()) {
        long id = 1 + rnd.nextLong(115_000); // past the end too: the last segment is open-ended
        switch (rnd.nextInt(4)) {
          case 0 -> {
            ins.setLong(1, id);
            ins.setString(2, "new " + id);
            ins.setInt(3, rnd.nextInt(1000));
            ins.executeUpdate();
          }
          case 1 -> {
            upd.setInt(1, rnd.nextInt(1000));
            upd.setLong(2, id);
            upd.executeUpdate();
          }
          case 2 -> {
            del.setLong(1, id);
            del.executeUpdate();
          }
          default -> {
            multi.setLong(1, id);
            multi.setLong(2, id);
            multi.executeUpdate();
          }
        }
        writes.incrementAndGet();
        if (writes.get() % 50 == 0) Thread.sleep(10); // a moderate rate, a few thousand writes a second at most
      }
    } catch (SQLException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private String state(String tgt) {
    String s = pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'");
    return s == null ? "" : s;
  }

  static void waitFor(java.util.function.BooleanSupplier cond, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + seconds + " s");
      Thread.sleep(100);
    }
  }
}
