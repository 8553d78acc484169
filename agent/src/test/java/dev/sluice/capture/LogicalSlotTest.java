package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.db.Databases;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A job's publication and slot: created once by agents starting together, never taken from another database, dropped while read. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class LogicalSlotTest {
  private final TestPg pg = TestPg.get();

  @Test
  void createdOnceKeptApartAndDroppedWhileRead(Vertx vertx, VertxTestContext ctx) {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("slot");
    String other = pg.createDatabase("slot_other");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "CREATE SCHEMA sluice",
        "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, at timestamptz NOT NULL DEFAULT now())");
    pg.exec(other, "CREATE TABLE items (id bigint PRIMARY KEY)");
    Pool pool = pool(vertx, pg.url(db), 4);
    Pool otherPool = pool(vertx, pg.url(other), 1);
    WalReader reader = new WalReader(dev.sluice.db.Databases.settings(pg.database(db), "sluice-wal"), "items", new WalKeys("public", "items", List.of("id")),
        WalReader.Settings.DEFAULTS, new WalReader.Listener() {
          @Override
          public void truncated(long lsn) {}

          @Override
          public void failed(Throwable error) {}
        }, System::nanoTime);
    // Three agents starting together: one slot and one publication, created by exactly one of them.
    Future.all(List.of(LogicalSlot.ensure(pool, "items", "public.items"),
            LogicalSlot.ensure(pool, "items", "public.items"), LogicalSlot.ensure(pool, "items", "public.items")))
        .compose(created -> {
          ctx.verify(() -> assertEquals(1, created.list().stream().filter(Boolean.TRUE::equals).count()));
          return LogicalSlot.ensure(pool, "items", "public.items");
        })
        .compose(again -> {
          ctx.verify(() -> assertFalse(again, "resumed, not created again"));
          return LogicalSlot.status(pool, "items", "public.items");
        })
        .compose(st -> {
          ctx.verify(() -> {
            assertTrue(st.exists() && st.publication() && st.publishesTable());
            assertEquals("pgoutput", st.plugin());
            assertEquals(db, st.database());
          });
          // The same job name migrating from another database of the same cluster: refused, with the reason.
          return LogicalSlot.ensure(otherPool, "items", "public.items").map(x -> (Throwable) null).recover(Future::succeededFuture);
        })
        .compose(e -> {
          ctx.verify(() -> {
            assertInstanceOf(IllegalStateException.class, e);
            assertTrue(e.getMessage().contains("replication slot sluice_items already exists for database " + db), e.getMessage());
          });
          return LogicalSlot.drop(otherPool, "items");
        })
        .compose(v -> LogicalSlot.status(pool, "items", "public.items"))
        .compose(st -> {
          ctx.verify(() -> assertTrue(st.exists(), "another database's drop leaves it alone"));
          // Dropped while a reader holds it: the reader's session is ended first.
          reader.start();
          return Async.until(vertx, Duration.ofSeconds(30), "the slot is read",
              () -> LogicalSlot.status(pool, "items", "public.items").map(now -> now.activePid() != null));
        })
        .compose(v -> LogicalSlot.drop(pool, "items"))
        .compose(v -> LogicalSlot.present(pool, "items"))
        .compose(present -> {
          ctx.verify(() -> assertFalse(present));
          return Async.blocking(vertx, () -> {
            reader.stop(Duration.ofSeconds(10));
            return null;
          });
        })
        .compose(v -> LogicalSlot.drop(pool, "items")) // idempotent
        // What rollback and cleanup run: the slot and publication go with the trigger and changelog.
        .compose(v -> LogicalSlot.ensure(pool, "items", "public.items"))
        .compose(v -> ChangeCapture.remove(pool, "items"))
        .compose(v -> Future.all(LogicalSlot.present(pool, "items"), ChangeCapture.present(pool, "items"),
            Async.scalar(pool, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sluice'")))
        // Slot names are cluster-wide: a slot left behind by a failure here would fail every later test's job "items".
        .eventually(() -> LogicalSlot.drop(pool, "items").eventually(() -> Future.join(pool.close(), otherPool.close())))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertFalse(all.<Boolean>resultAt(0));
          assertFalse(all.<Boolean>resultAt(1));
          assertEquals(0L, all.<Long>resultAt(2), "the emptied schema is gone too");
          ctx.completeNow();
        })));
  }

  @Test
  void anAgentWaitsForTheSlotAnotherIsStillCreating(Vertx vertx, VertxTestContext ctx) throws Exception {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("slotwait");
    pg.exec(db, "CREATE TABLE waits (id bigint PRIMARY KEY)", "CREATE TABLE busy (id bigint)");
    Pool pool = pool(vertx, pg.url(db), 4);
    // A transaction running on the cluster: a slot's creation waits for it to end, the slot visible meanwhile.
    java.sql.Connection open = pg.connect(db);
    open.setAutoCommit(false);
    open.createStatement().execute("INSERT INTO busy VALUES (1)");
    Future<Boolean> first = LogicalSlot.ensure(pool, "waits", "public.waits");
    Async.until(vertx, Duration.ofSeconds(30), "the slot shows up while it is created",
            () -> Async.scalar(pool, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_waits'").map(n -> n == 1))
        .compose(v -> {
          // A second agent starting now must not take the slot as created: a snapshot taken before the
          // slot's start would lose the changes in between.
          Future<Boolean> second = LogicalSlot.ensure(pool, "waits", "public.waits");
          return Async.pause(vertx, 1500).compose(x -> {
            ctx.verify(() -> {
              assertFalse(first.isComplete(), "the creation waits for the open transaction");
              assertFalse(second.isComplete(), "the second agent waits for the creation to finish, it ended: " + second);
            });
            return Async.blocking(vertx, () -> {
              open.commit();
              return null;
            });
          }).compose(x -> Future.all(first, second));
        })
        .eventually(() -> Async.blocking(vertx, () -> {
          open.close();
          return null;
        }).eventually(() -> LogicalSlot.drop(pool, "waits")).eventually(pool::close))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertTrue(all.<Boolean>resultAt(0), "the first agent created it");
          assertFalse(all.<Boolean>resultAt(1), "the second found it created");
          ctx.completeNow();
        })));
  }

  private static Pool pool(Vertx vertx, String url, int size) {
    PgConnectOptions o = PgConnectOptions.fromUri(url);
    return Databases.pool(vertx, TestPg.config(o, size), "sluice-test", size);
  }
}
