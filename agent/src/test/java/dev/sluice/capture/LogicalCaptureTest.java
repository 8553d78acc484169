package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reader's shell on the test server: a reader whose session is killed is replaced and loses no
 * key; a slot that retains more WAL than its limit is dropped and created afresh, and the job is told.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 300, timeUnit = TimeUnit.SECONDS)
class LogicalCaptureTest {
  private static final long MB = 1048576;
  private final TestPg pg = TestPg.get();

  private static Future<Void> until(Vertx vertx, Duration limit, String what, BooleanSupplier condition) {
    return Async.until(vertx, limit, what, () -> Future.succeededFuture(condition.getAsBoolean()));
  }

  @Test
  void readerRestartsAndAnOverLimitSlotIsReplaced(Vertx vertx, VertxTestContext ctx) {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("lcap");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "CREATE TABLE noise (id bigserial PRIMARY KEY, pad text)",
        "CREATE SCHEMA sluice", "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
    PgConnectOptions options = PgConnectOptions.fromUri(pg.url(db));
    Pool pool = Databases.pool(vertx, TestPg.config(options, 2), "sluice-test", 2);
    dev.sluice.db.ConnectionSettings settings = Databases.settings(pg.database(db), "sluice-wal");
    List<String> replaced = new CopyOnWriteArrayList<>();
    LogicalCapture.Events events = new LogicalCapture.Events() {
      @Override
      public void slotReplaced(String reason) {
        replaced.add(reason);
      }

      @Override
      public void truncated() {}

      @Override
      public void unusable(String reason) {}
    };
    WalReader.Settings fast = new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofMillis(200));
    LogicalCapture capture = new LogicalCapture(vertx, "items", "public", "items", "public.items", List.of("id"), pool, settings,
        new LogicalCapture.Settings(fast, new SlotRisk.Limits(1024 * MB, 1024 * MB, 1024 * MB), Duration.ofMillis(200)), events,
        java.time.Clock.systemUTC(), System::nanoTime);
    LogicalCapture[] second = {null};
    String retainedSql = "SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots WHERE slot_name = 'sluice_items'";
    LogicalSlot.ensure(pool, "items", "public.items")
        .compose(v -> {
          capture.start();
          return until(vertx, Duration.ofSeconds(30), "reading", capture::reading);
        })
        // The reader's session dies: another reader takes the slot from where it was confirmed.
        .compose(v -> Async.blocking(vertx, () -> {
          pg.exec(db, "INSERT INTO items SELECT g, 0 FROM generate_series(1, 100) g");
          pg.exec("postgres", "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sluice_items'");
          pg.exec(db, "INSERT INTO items SELECT g, 0 FROM generate_series(101, 200) g");
        }))
        .compose(v -> Async.until(vertx, Duration.ofSeconds(60), "every key recorded after the restart",
            () -> Async.scalar(pool, "SELECT count(DISTINCT key) FROM sluice.changes_items").map(n -> n == 200)))
        .compose(v -> {
          ctx.verify(() -> assertTrue(capture.lastError() != null, "the failure was seen"));
          return capture.stop();
        })
        .compose(v -> {
          ctx.verify(() -> assertEquals(List.of(), replaced));
          // Nobody reads the slot while 16 MB of WAL is written: an agent that starts reading it then
          // finds it over its limit (8 MB over what it held before), drops it and creates it afresh.
          return Async.scalar(pool, retainedSql);
        })
        .compose(held -> Async.blocking(vertx, () -> pg.exec(db,
            "INSERT INTO noise (pad) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 50000) g")).map(v -> held + 8 * MB))
        .compose(limit -> {
          second[0] = new LogicalCapture(vertx, "items", "public", "items", "public.items", List.of("id"), pool, settings,
              new LogicalCapture.Settings(fast, new SlotRisk.Limits(limit / 2, limit / 2, limit), Duration.ofMillis(200)), events,
              java.time.Clock.systemUTC(), System::nanoTime);
          second[0].start();
          return until(vertx, Duration.ofSeconds(60), "the slot replaced", () -> !replaced.isEmpty())
              .compose(v -> {
                ctx.verify(() -> assertTrue(replaced.get(0).contains("slot sluice_items retains") && replaced.get(0).contains("at or over its limit"),
                    replaced.toString()));
                return until(vertx, Duration.ofSeconds(30), "reading the new slot", second[0]::reading);
              })
              .compose(v -> Async.scalar(pool, retainedSql))
              .compose(held -> {
                ctx.verify(() -> assertTrue(held < limit, "the new slot holds less than the limit"));
                return Async.blocking(vertx, () -> pg.exec(db, "INSERT INTO items VALUES (1000, 0)"));
              });
        })
        .compose(v -> Async.until(vertx, Duration.ofSeconds(30), "a change after the replacement",
            () -> Async.scalar(pool, "SELECT count(*) FROM sluice.changes_items WHERE key = '{1000}'").map(n -> n == 1)))
        .eventually(() -> capture.stop()
            .eventually(() -> second[0] == null ? Future.succeededFuture() : second[0].stop())
            .eventually(() -> LogicalSlot.drop(pool, "items"))
            .eventually(pool::close))
        .onComplete(ctx.succeedingThenComplete());
  }
}
