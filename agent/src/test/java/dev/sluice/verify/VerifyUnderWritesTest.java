package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The final verification pass runs while the users keep writing (the job is in sync, still applying).
 * A key that differs only because its change is not applied yet is in flight, not a mismatch: the
 * pass reported such keys as mismatches (a write committed after it read the changelog), and one
 * written again during the repair's re-check as not repaired, which failed the job.
 */
class VerifyUnderWritesTest {
  private final TestPg pg = TestPg.get();

  @Test
  void writesDuringTheFinalPassAreNotMismatches() throws Exception {
    String src = pg.createDatabase("vw_src");
    String tgt = pg.createDatabase("vw_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, 0 FROM generate_series(1, 20000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true},
           "segment": {"rows": 5000}, "batch": {"rows": 1000}, "concurrency": {"max": 2},
           "capture": {"batchRows": 500, "pollMs": 50, "inSyncRows": 100000}, "verify": {"sampleRate": 0}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    AtomicLong duringPass = new AtomicLong(-1);
    long[] writtenAt = new long[1_000_000]; // when each write returned (ms since the epoch), up to its length
    // Hot keys in every segment, written as fast as one session can until the pass has reported.
    Thread writer = new Thread(() -> {
      try (Connection c = pg.connect(src);
          PreparedStatement up = c.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id = ?")) {
        SplittableRandom rnd = new SplittableRandom(11);
        while (!stop.get()) {
          up.setLong(1, (rnd.nextInt(200) + 1) * 100L);
          up.executeUpdate();
          long n = writes.getAndIncrement();
          if (n < writtenAt.length) writtenAt[(int) n] = System.currentTimeMillis();
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }, "test-writer");
    try {
      writer.start();
      VerificationAndDriftTest.waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND state = 'in_sync'") == 1, 90);
      long atSync = writes.get();
      VerificationAndDriftTest.waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND verify_report IS NOT NULL") == 1, 90);
      duringPass.set(writes.get() - atSync);
      stop.set(true);
      writer.join();
      String report = pg.string(tgt, "SELECT verify_report::text FROM sluice.jobs WHERE name = 'items'");
      // The pass's own window (it ended when its report was recorded), not the test's polls: a fast pass
      // can begin and end between two of them.
      long passEnd = pg.scalar(tgt, "SELECT (extract(epoch FROM at) * 1000)::bigint FROM sluice.events WHERE job = 'items' AND kind = 'job.verify_report'");
      long passStart = passEnd - pg.scalar(tgt, "SELECT (verify_report->>'durationMs')::bigint FROM sluice.jobs WHERE name = 'items'");
      long inPass = 0;
      for (int i = 0; i < Math.min(writes.get(), writtenAt.length); i++) {
        if (writtenAt[i] >= passStart && writtenAt[i] <= passEnd) inPass++;
      }
      assertTrue(inPass > 0, "the writer wrote during the pass (" + (passEnd - passStart) + " ms): " + inPass + " writes; " + report);
      assertEquals(0, pg.scalar(tgt, "SELECT (verify_report->>'mismatches')::int FROM sluice.jobs WHERE name = 'items'"), report);
      assertEquals(0, pg.scalar(tgt, "SELECT (verify_report->>'unrepaired')::int FROM sluice.jobs WHERE name = 'items'"), report);
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state <> 'verified'"), report);
      assertEquals("in_sync", pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'"), report);
      // Caught up once the writer stopped: nothing was lost while the pass ran.
      VerificationAndDriftTest.waitFor(() -> pg.scalar(src, "SELECT count(*) FROM sluice.changes_items") == 0, 60);
      Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
          tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
      System.out.println("verify under writes: " + writes.get() + " writes, " + duringPass.get() + " while in sync and verifying, "
          + inPass + " during the pass; " + report);
    } finally {
      stop.set(true);
      writer.join();
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
