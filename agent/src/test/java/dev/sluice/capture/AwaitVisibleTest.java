package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link ChangelogWriter#awaitVisible}: returns at once for committed, visible transactions, and waits
 * for one that is committed in the WAL but not yet visible (held by a synchronous standby that never
 * answers) until it is, keeping the stream alive meanwhile.
 */
class AwaitVisibleTest {
  private final TestPg pg = TestPg.get();

  @Test
  void waitsForACommitThatIsNotVisibleYet() throws Exception {
    String db = pg.createDatabase("av");
    pg.exec(db, "ALTER DATABASE " + db + " SET synchronous_commit = local", "CREATE TABLE t (id int PRIMARY KEY)");
    int committed = (int) pg.scalar(db, "SELECT pg_current_xact_id()::text::bigint % 4294967296");
    CompletableFuture<Void> write = null;
    try (Connection c = pg.connect(db)) {
      c.setAutoCommit(false);
      ChangelogWriter w = new ChangelogWriter(c, "av");
      long t0 = System.nanoTime();
      w.awaitVisible(new int[] {committed}, () -> {});
      w.awaitVisible(new int[0], () -> {});
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "a visible transaction is not waited for");
      pg.exec(db, "ALTER SYSTEM SET synchronous_standby_names = 'sluice_absent_standby'", "SELECT pg_reload_conf()");
      Thread.sleep(500);
      write = CompletableFuture.runAsync(() -> {
        try (Connection wc = pg.connect(db); Statement st = wc.createStatement()) {
          st.execute("SET application_name = 'av_writer'");
          st.execute("SET synchronous_commit = on");
          st.execute("INSERT INTO t VALUES (1)");
        } catch (Exception e) {
          // the wait was cancelled below: the insert stays committed
        }
      });
      Writes.waitFor(() -> pg.scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'av_writer' AND wait_event = 'SyncRep'") == 1, 30);
      int waiting = (int) pg.scalar(db, "SELECT backend_xid::text::bigint FROM pg_stat_activity WHERE application_name = 'av_writer'");
      AtomicInteger alive = new AtomicInteger();
      CompletableFuture<Void> awaited = CompletableFuture.runAsync(() -> {
        try {
          w.awaitVisible(new int[] {committed, waiting}, alive::incrementAndGet);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(2500);
      assertFalse(awaited.isDone(), "returned while the commit was not visible");
      assertTrue(alive.get() >= 1, "kept the stream alive while waiting");
      pg.exec(db, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'av_writer'");
      awaited.get(30, TimeUnit.SECONDS);
      assertTrue(pg.scalar(db, "SELECT count(*) FROM t") == 1, "the insert is visible now");
    } finally {
      pg.exec(db, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()");
      pg.exec(db, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'av_writer'");
      if (write != null) write.get(30, TimeUnit.SECONDS);
    }
  }
}
