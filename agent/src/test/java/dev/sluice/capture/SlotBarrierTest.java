package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The barrier the final pass and the completion wait on ({@link LogicalSlot#caughtUp}): every change
 * committed before it is handled once the slot is confirmed past the WAL position taken at the call.
 * With a reader in this agent its own confirmed position answers (the server hears of it only with the
 * reader's next status message, up to a second later); without one, the server's slot does. No reader
 * runs here: the positions are moved by hand, the server's with {@code pg_replication_slot_advance}.
 */
class SlotBarrierTest {
  private final TestPg pg = TestPg.get();

  @Test
  void theLocalReadersPositionOrTheServersOpensTheBarrierAndNothingBelowIt() throws Exception {
    String src = pg.createDatabase("sb_src");
    pg.exec(src, "CREATE TABLE t (id bigint PRIMARY KEY, v int)");
    SluiceConfig cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "sb", "source": {"table": "public.t", "key": ["id"]}, "target": {"table": "public.t"}}]}"""
        .formatted(pg.url(src), pg.url(src)));
    Vertx vertx = Vertx.vertx();
    Pool source = Databases.pool(vertx, cfg.source(), "sluice-test", 2);
    try {
      Await.result(LogicalSlot.ensure(source, "sb", "public.t"));
      long start = lsn(src);
      // A change after the slot's start: the barrier must wait for it to be handled.
      pg.exec(src, "INSERT INTO t VALUES (1, 1)");

      // A local reader that has confirmed a position below the barrier's, and a server slot that has not moved: closed.
      Exception closed = assertThrows(Exception.class, () -> Await.result(
          LogicalSlot.caughtUp(vertx, source, "sb", Duration.ofMillis(600), System::nanoTime, () -> start), 10, TimeUnit.SECONDS));
      assertTrue(String.valueOf(closed.getMessage()).contains("has not been read up to"), String.valueOf(closed.getMessage()));

      // The local reader confirms past it 300 ms later: open, although the server's slot has still not moved.
      AtomicLong local = new AtomicLong(start);
      vertx.setTimer(300, t -> local.set(Long.MAX_VALUE));
      long t0 = System.nanoTime();
      Await.result(LogicalSlot.caughtUp(vertx, source, "sb", Duration.ofSeconds(20), System::nanoTime, local::get), 30, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms >= 250 && ms < 10_000, "opened after " + ms + " ms");
      assertTrue(pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_sb' "
          + "AND confirmed_flush_lsn < pg_current_wal_insert_lsn()") == 1, "the server's slot did not move");

      // No local reader (another agent reads the slot): the server's confirmed position opens it.
      pg.exec(src, "INSERT INTO t VALUES (2, 2)");
      vertx.setTimer(300, t -> vertx.executeBlocking(() ->
          pg.scalar(src, "SELECT count(*) FROM pg_replication_slot_advance('sluice_sb', pg_current_wal_insert_lsn())")));
      Await.result(LogicalSlot.caughtUp(vertx, source, "sb", Duration.ofSeconds(20), System::nanoTime, () -> -1), 30, TimeUnit.SECONDS);
    } finally {
      Await.result(LogicalSlot.drop(source, "sb"));
      Await.result(source.close());
      Await.result(vertx.close());
    }
  }

  private long lsn(String db) {
    return org.postgresql.replication.LogSequenceNumber.valueOf(pg.string(db, "SELECT pg_current_wal_insert_lsn()::text")).asLong();
  }
}
