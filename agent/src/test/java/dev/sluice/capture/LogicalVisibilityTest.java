package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A transaction's commit is in the WAL, and decoded, before it is visible: its backend makes it
 * visible only after the WAL is flushed and, with synchronous replication, after a standby confirmed
 * it. The WAL reader can therefore hand a key over while the change behind it is not yet visible to
 * the applier's re-read; applied then, the key gets the row as it was before the change, the slot
 * moves past the change, and nothing brings the change over later. The applier must wait until the
 * changes it holds keys of are visible (here: a synchronous standby that never answers holds the
 * commit invisible until the writer's wait is cancelled). The same holds for keys the reader records
 * in the changelog in logical mode: the entry is visible before the change it names may be.
 */
class LogicalVisibilityTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aKeyWhoseChangeIsCommittedButNotYetVisibleIsNotAppliedBeforeIt() throws Exception {
    String src = pg.createDatabase("lv_src");
    String tgt = pg.createDatabase("lv_tgt");
    // Only the writer below waits for the (absent) synchronous standby: every other session commits locally.
    pg.exec(src, "ALTER DATABASE " + src + " SET synchronous_commit = local", "ALTER DATABASE " + tgt + " SET synchronous_commit = local",
        "CREATE TABLE items (id bigint PRIMARY KEY, qty int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 1000) g");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "vis", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true}, "segment": {"rows": 1000},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(pg.url(src), pg.url(tgt));
    Agent agent = Agents.start(config);
    CompletableFuture<Void> write = null;
    try {
      Writes.waitFor(() -> "in_sync".equals(pg.string(tgt, "SELECT coalesce(max(state), '') FROM sluice.jobs")), 120);
      pg.exec(src, "ALTER SYSTEM SET synchronous_standby_names = 'sluice_absent_standby'", "SELECT pg_reload_conf()");
      Thread.sleep(500); // the reload reaches every backend
      write = CompletableFuture.runAsync(() -> {
        try (Connection c = pg.connect(src); Statement st = c.createStatement()) {
          st.execute("SET application_name = 'lv_writer'");
          st.execute("SET synchronous_commit = on");
          st.execute("UPDATE items SET qty = 999 WHERE id = 1"); // committed in the WAL, then waits for the standby
        } catch (Exception e) {
          // the wait was cancelled: the transaction stays committed (a warning), as PostgreSQL documents
        }
      });
      Writes.waitFor(() -> pg.scalar(src, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lv_writer' AND wait_event = 'SyncRep'") == 1, 30);
      String lsn = pg.string(src, "SELECT pg_current_wal_insert_lsn()::text");
      // The reader reads the commit and hands the key over; give the applier time to take it (with
      // the defect it applies the old row, and the slot confirms past the change).
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
      while (System.nanoTime() < end
          && pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_vis' AND confirmed_flush_lsn >= '" + lsn + "'") == 0) {
        Thread.sleep(100);
      }
      Thread.sleep(500);
      assertEquals(0, pg.scalar(src, "SELECT qty FROM items WHERE id = 1"), "the change is not visible yet");
    } finally {
      pg.exec(src, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()");
      pg.exec(src, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'lv_writer'");
      if (write != null) write.get(30, TimeUnit.SECONDS);
    }
    try {
      assertEquals(999, pg.scalar(src, "SELECT qty FROM items WHERE id = 1"), "the change is visible now");
      Writes.waitFor(() -> pg.scalar(tgt, "SELECT qty FROM items WHERE id = 1") == 999, 30);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
