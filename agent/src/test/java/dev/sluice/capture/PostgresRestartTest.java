package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.RestartablePg;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The source PostgreSQL restarts while a job in logical mode streams its slot (a server of the test's
 * own; the target and the ledger stay on the shared one). A writer keeps changing rows before and
 * after the restart. The WAL reader loses its connection, connects again and resumes from the slot,
 * which the server kept: every change reaches the target through the slot (the final pass repairs
 * nothing, no slot is replaced) and the tables end equal.
 */
class PostgresRestartTest {
  private final TestPg pg = TestPg.get();

  @Test
  void theReaderResumesFromTheSlotAfterTheSourceRestarts() throws Exception {
    try (RestartablePg source = RestartablePg.start()) {
      source.exec("postgres", "CREATE DATABASE rs_src");
      source.exec("rs_src", "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
          "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 20000) g");
      String tgt = pg.createDatabase("rs_tgt");
      // resumeAfterMs: the probe fails closed while the source is down; once it answers, the job need not wait the
      // default 5 s of sensor hysteresis (what is tested here is the reader resuming from its slot).
      String config = """
          {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
           "health": {"resumeAfterMs": 1000, "foreground": {"enabled": false}},
           "jobs": [{"name": "restarted", "source": {"table": "public.items", "key": ["id"]},
             "target": {"table": "public.items", "create": true},
             "segment": {"rows": 2000}, "batch": {"rows": 500}, "concurrency": {"max": 2}, "pace": {"rowsPerSecond": 4000},
             "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(source.url("rs_src"), pg.url(tgt));
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong writes = new AtomicLong();
      Agent agent = Agents.start(config);
      Thread writer = new Thread(() -> write(source, stop, writes), "test-writer");
      try {
        writer.start();
        Eventually.until(Duration.ofSeconds(60), "the slot streaming under writes", () -> writes.get() > 300
            && source.scalar("rs_src", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_restarted' AND active") == 1);
        long before = writes.get();
        // The agent reconnects while the server shuts down (sslmode prefer, the default, against a server without TLS):
        // none of its attempts may hold the shutdown up. Before, one waited in the server's start-up until
        // authentication_timeout (60 s): the restart took 62 s (3 of 3 runs), pg_ctl's default wait gives up at 60.
        long t0 = System.nanoTime();
        source.restart();
        long restartMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(restartMs < 30_000, "the source took " + restartMs + " ms to restart");
        Eventually.until(Duration.ofSeconds(60), "writes after the restart and the slot read again", () -> writes.get() > before + 300
            && source.scalar("rs_src", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_restarted' AND active") == 1);
        stop.set(true);
        writer.join();
        // The reader is back on its slot: the rest of the copy and the final pass need not go at the job's pace.
        agent.migrators().get("restarted").setRate(null, 500);
        Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
        assertEquals(JobState.COMPLETED, states.get("restarted"));
      } finally {
        stop.set(true);
        writer.join();
        Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
      try (Connection a = source.connect("rs_src"); Connection b = pg.connect(tgt)) {
        long n = Tables.assertSameRows(a, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
            b, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
        assertTrue(n > 15_000, "rows compared: " + n);
      }
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'restarted' AND kind = 'capture.slot_replaced'"));
      assertEquals(0, pg.scalar(tgt, "SELECT coalesce((verify_report->>'repaired')::int, 0) FROM sluice.jobs WHERE name = 'restarted'"),
          "every change arrived through the slot: " + pg.string(tgt, "SELECT verify_report::text FROM sluice.jobs WHERE name = 'restarted'"));
      assertTrue(pg.scalar(tgt, "SELECT sum(changes_after_copy) FROM sluice.segments WHERE job = 'restarted'") > 0);
    }
  }

  /** Updates, inserts and deletes at random until {@code stop}; connects again after the server went away. */
  private static void write(RestartablePg source, AtomicBoolean stop, AtomicLong writes) {
    SplittableRandom rnd = new SplittableRandom(11);
    while (!stop.get()) {
      try (Connection c = source.connect("rs_src");
          PreparedStatement upd = c.prepareStatement("UPDATE items SET name = name || '+', qty = ? WHERE id = ?");
          PreparedStatement ins = c.prepareStatement("INSERT INTO items VALUES (?, 'new', 1) ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1");
          PreparedStatement del = c.prepareStatement("DELETE FROM items WHERE id = ?")) {
        while (!stop.get()) {
          long id = 1 + rnd.nextLong(22_000);
          PreparedStatement s = switch (rnd.nextInt(4)) {
            case 0 -> ins;
            case 1 -> del;
            default -> upd;
          };
          if (s == upd) {
            upd.setInt(1, rnd.nextInt(1000));
            upd.setLong(2, id);
          } else {
            s.setLong(1, id);
          }
          s.executeUpdate();
          writes.incrementAndGet();
          Thread.sleep(2);
        }
      } catch (SQLException e) {
        Eventually.pause(200); // the server is restarting
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
