package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.agent.Validation;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The applier's writes are fenced by its epoch: an agent that takes a job's applier lock counts the
 * job's {@code applier_epoch} up before it applies anything, and a write carrying an older epoch (an
 * agent whose lock went with its session while its batch was in flight) writes nothing, even though
 * the job still writes. The count waits for a write in flight, which holds the job's row FOR SHARE.
 * On PostgreSQL 15+ the write is a MERGE, before it the upsert: both are fenced (CI's version matrix).
 */
class KeySyncEpochTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aWriteOfAnOlderEpochWritesNothingAndTheNewEpochWaitsForAWriteInFlight() throws Exception {
    String src = pg.createDatabase("ke_src");
    String tgt = pg.createDatabase("ke_tgt");
    pg.exec(src, "CREATE TABLE t (id bigint PRIMARY KEY, v int)", "INSERT INTO t VALUES (1, 10), (2, 20)");
    pg.exec(tgt, "CREATE TABLE t (id bigint PRIMARY KEY, v int)");
    SluiceConfig cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "ke", "source": {"table": "public.t", "key": ["id"]}, "target": {"table": "public.t"}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    Vertx vertx = Vertx.vertx();
    Pool source = Databases.pool(vertx, cfg.source(), "sluice-test", 2);
    Pool target = Databases.pool(vertx, cfg.target(), "sluice-test", 2);
    try {
      JobShape shape = Validation.check(vertx, cfg).get(0);
      Await.result(LedgerSchema.ensure(target));
      pg.exec(tgt, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
          + "VALUES ('ke', 'in_sync', 'public.t', 'public.t', '{id}', '{bigint}')");
      KeySync sync = new KeySync(shape, source, target);
      WatchedPool ledger = WatchedPool.unwatched(target);

      // The first applier takes the lock: epoch 1. Its writes land.
      long first = Await.result(ApplierLock.claimEpoch(ledger, "ke"));
      assertEquals(1, first);
      sync.fenceEpoch(first);
      assertEquals(1, Await.result(sync.sync(List.of(List.of("1")))).upserted());
      assertEquals(10, pg.scalar(tgt, "SELECT v FROM t WHERE id = 1"));

      // Another agent takes over (epoch 2): the first one's next write writes nothing and says why.
      assertEquals(2, Await.result(ApplierLock.claimEpoch(ledger, "ke")));
      pg.exec(src, "UPDATE t SET v = 11 WHERE id = 1");
      Exception e = assertThrows(Exception.class, () -> Await.result(sync.sync(List.of(List.of("1"), List.of("2")))));
      assertInstanceOf(KeySync.ApplierSuperseded.class, e.getCause() == null ? e : e.getCause(), e.toString());
      assertEquals(10, pg.scalar(tgt, "SELECT v FROM t WHERE id = 1"), "the superseded write left the row as it was");
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM t WHERE id = 2"));

      // With the current epoch, or with none (verification's repairs), the same write lands.
      sync.fenceEpoch(2L);
      assertEquals(2, Await.result(sync.sync(List.of(List.of("1"), List.of("2")))).upserted());
      pg.exec(src, "UPDATE t SET v = 12 WHERE id = 1");
      sync.fenceEpoch(null);
      assertEquals(1, Await.result(sync.sync(List.of(List.of("1")))).upserted());
      assertEquals(12, pg.scalar(tgt, "SELECT v FROM t WHERE id = 1"));

      // A job that no longer writes fences every write, epoch or not, as before.
      pg.exec(tgt, "UPDATE sluice.jobs SET state = 'rolling_back' WHERE name = 'ke'");
      sync.fenceEpoch(2L);
      Exception rolled = assertThrows(Exception.class, () -> Await.result(sync.sync(List.of(List.of("1")))));
      assertInstanceOf(KeySync.JobFenced.class, rolled.getCause() == null ? rolled : rolled.getCause(), rolled.toString());
      pg.exec(tgt, "UPDATE sluice.jobs SET state = 'in_sync' WHERE name = 'ke'");

      // A write in flight holds the job's row FOR SHARE: the next applier's epoch waits for it.
      try (Connection inFlight = pg.connect(tgt); Statement st = inFlight.createStatement()) {
        inFlight.setAutoCommit(false);
        st.execute(KeySync.fenceRow(2).replace("$2::bigint", "NULL::bigint").replace("$1", "'ke'"));
        Future<Long> next = ApplierLock.claimEpoch(ledger, "ke");
        Thread.sleep(1000);
        assertFalse(next.isComplete(), "the new epoch was counted while a write of the old one was in flight");
        inFlight.commit();
        assertEquals(3, next.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
      }
    } finally {
      Await.result(source.close());
      Await.result(target.close());
      Await.result(vertx.close());
    }
  }
}
