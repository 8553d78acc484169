package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A job's publication and slot: created once by agents starting together, never taken from another database, dropped while read. */
class LogicalSlotTest {
  private final TestPg pg = TestPg.get();

  @Test
  void createdOnceKeptApartAndDroppedWhileRead() throws Exception {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("slot");
    String other = pg.createDatabase("slot_other");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "CREATE SCHEMA sluice",
        "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, at timestamptz NOT NULL DEFAULT now())");
    pg.exec(other, "CREATE TABLE items (id bigint PRIMARY KEY)");
    Vertx vertx = Vertx.vertx();
    Pool pool = pool(vertx, pg.url(db), 4);
    Pool otherPool = pool(vertx, pg.url(other), 1);
    try {
      // Three agents starting together: one slot and one publication, created by exactly one of them.
      var created = Await.result(io.vertx.core.Future.all(List.of(LogicalSlot.ensure(pool, "items", "public.items"),
          LogicalSlot.ensure(pool, "items", "public.items"), LogicalSlot.ensure(pool, "items", "public.items"))));
      assertEquals(1, created.list().stream().filter(Boolean.TRUE::equals).count());
      assertFalse(Await.result(LogicalSlot.ensure(pool, "items", "public.items")), "resumed, not created again");
      LogicalSlot.Status st = Await.result(LogicalSlot.status(pool, "items", "public.items"));
      assertTrue(st.exists() && st.publication() && st.publishesTable());
      assertEquals("pgoutput", st.plugin());
      assertEquals(db, st.database());

      // The same job name migrating from another database of the same cluster: refused, with the reason.
      Exception e = assertThrows(IllegalStateException.class, () -> Await.result(LogicalSlot.ensure(otherPool, "items", "public.items")));
      assertTrue(e.getMessage().contains("replication slot sluice_items already exists for database " + db), e.getMessage());
      Await.result(LogicalSlot.drop(otherPool, "items"));
      assertTrue(Await.result(LogicalSlot.status(pool, "items", "public.items")).exists(), "another database's drop leaves it alone");

      // Dropped while a reader holds it: the reader's session is ended first.
      WalReader reader = new WalReader(PgConnectOptions.fromUri(pg.url(db)), "items", new WalKeys("public", "items", List.of("id")),
          WalReader.Settings.DEFAULTS, new WalReader.Listener() {
            @Override
            public void truncated(long lsn) {}

            @Override
            public void failed(Throwable error) {}
          }, System::nanoTime);
      reader.start();
      Eventually.until(Duration.ofSeconds(30), "the slot is read",
          () -> Await.result(LogicalSlot.status(pool, "items", "public.items")).activePid() != null);
      Await.result(LogicalSlot.drop(pool, "items"));
      assertFalse(Await.result(LogicalSlot.present(pool, "items")));
      reader.stop(Duration.ofSeconds(10));
      Await.result(LogicalSlot.drop(pool, "items")); // idempotent

      // What rollback and cleanup run: the slot and publication go with the trigger and changelog.
      Await.result(LogicalSlot.ensure(pool, "items", "public.items"));
      Await.result(ChangeCapture.remove(pool, "items", "public.items"));
      assertFalse(Await.result(LogicalSlot.present(pool, "items")));
      assertFalse(Await.result(ChangeCapture.present(pool, "items")));
      assertEquals(0, pg.scalar(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sluice'"), "the emptied schema is gone too");
    } finally {
      Await.result(pool.close());
      Await.result(otherPool.close());
      Await.result(vertx.close());
    }
  }

  private static Pool pool(Vertx vertx, String url, int size) {
    PgConnectOptions o = PgConnectOptions.fromUri(url);
    return Databases.pool(vertx, TestPg.config(o, size), "sluice-test", size);
  }
}
