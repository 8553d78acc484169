package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.db.Databases;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
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

/**
 * A source table renamed while the WAL is read (and renamed back, or moved to another schema) is
 * still the job's table: pgoutput describes it under its new name, and its changes made meanwhile
 * must be captured (as a trigger, which follows the table, captures them). Before, the reader took the
 * renamed relation for another table and dropped its changes without a word, and confirmed the WAL
 * past them: a rename and back inside one transaction, quicker than the drift monitor's poll, lost
 * every change it made for good.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class LogicalRenameTest {
  private final TestPg pg = TestPg.get();

  @Test
  void changesMadeWhileTheTableIsRenamedAreCaptured(Vertx vertx, VertxTestContext ctx) {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("lrename");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "INSERT INTO items VALUES (100, 0)", "CREATE SCHEMA other",
        "CREATE SCHEMA sluice", "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
    Pool pool = Databases.pool(vertx, TestPg.config(PgConnectOptions.fromUri(pg.url(db)), 2), "sluice-test", 2);
    LogicalCapture.Events events = new LogicalCapture.Events() {
      @Override
      public void slotReplaced(String reason) {}

      @Override
      public void truncated() {}

      @Override
      public void unusable(String reason) {}
    };
    WalReader.Settings fast = new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofMillis(200));
    long gb = 1L << 30;
    LogicalCapture capture = new LogicalCapture(vertx, "items", "public", "items", "public.items", List.of("id"), pool,
        Databases.settings(pg.database(db), "sluice-wal"),
        new LogicalCapture.Settings(fast, new SlotRisk.Limits(gb, gb, gb), Duration.ofMillis(200)), events,
        java.time.Clock.systemUTC(), System::nanoTime);
    LogicalSlot.ensure(pool, "items", "public.items")
        .compose(v -> {
          capture.start();
          return Async.until(vertx, Duration.ofSeconds(30), "reading", () -> io.vertx.core.Future.succeededFuture(capture.reading()));
        })
        .compose(v -> Async.blocking(vertx, () -> {
          pg.exec(db, "INSERT INTO items VALUES (1, 0)");
          // Renamed, written to, renamed back: each its own transaction (the drift monitor may see this one).
          pg.exec(db, "ALTER TABLE items RENAME TO items_old");
          pg.exec(db, "INSERT INTO items_old SELECT g, 0 FROM generate_series(2, 10) g");
          pg.exec(db, "ALTER TABLE items_old RENAME TO items");
          // The same in one transaction: no poll can see it.
          pg.exec(db, "BEGIN; ALTER TABLE items RENAME TO items_tmp; UPDATE items_tmp SET v = 1 WHERE id = 1; "
              + "INSERT INTO items_tmp SELECT g, 0 FROM generate_series(11, 20) g; ALTER TABLE items_tmp RENAME TO items; COMMIT");
          // Moved to another schema and back.
          pg.exec(db, "ALTER TABLE items SET SCHEMA other");
          pg.exec(db, "DELETE FROM other.items WHERE id = 100");
          pg.exec(db, "ALTER TABLE other.items SET SCHEMA public");
          pg.exec(db, "INSERT INTO items VALUES (21, 0)"); // after everything: once it is there, all before it were read
        }))
        .compose(v -> Async.until(vertx, Duration.ofSeconds(30), "the last change recorded",
            () -> Async.scalar(pool, "SELECT count(*) FROM sluice.changes_items WHERE key = '{21}'").map(n -> n > 0)))
        .compose(v -> Async.scalar(pool, "SELECT count(DISTINCT key) FROM sluice.changes_items"))
        .compose(n -> {
          ctx.verify(() -> assertEquals(22L, n, "every key changed, renamed or not, is in the changelog (1 to 21, and 100 deleted)"));
          return capture.stop();
        })
        .eventually(() -> LogicalSlot.drop(pool, "items").eventually(pool::close))
        .onComplete(ctx.succeedingThenComplete());
  }
}
