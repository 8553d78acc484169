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
import io.vertx.sqlclient.Row;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The WAL reader against the test server: the keys of inserts, updates (of the key too), deletes
 * and bulk statements reach the changelog; the slot's confirmed position moves only past recorded
 * transactions; a new reader resumes from the slot; the heartbeat moves an idle table's slot. The
 * reader is a thread of its own on a pgjdbc replication stream: the test starts it, then chains
 * its checks as futures (reads through the pool, TestPg's writes and the reader's blocking stop on
 * a worker, polls on a timer), so nothing blocks an event loop.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class WalReaderTest {
  private final TestPg pg = TestPg.get();
  private Vertx vertx;
  private Pool pool;
  private String db;
  private dev.sluice.db.ConnectionSettings connection;
  private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
  private final List<WalReader> started = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx, VertxTestContext ctx) {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    this.vertx = vertx;
    db = pg.createDatabase("walr");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "CREATE TABLE noise (id bigserial PRIMARY KEY, pad text)",
        "CREATE SCHEMA sluice", "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
    PgConnectOptions options = PgConnectOptions.fromUri(pg.url(db));
    connection = Databases.settings(pg.database(db), "sluice-wal");
    pool = Databases.pool(vertx, TestPg.config(options, 2), "sluice-test", 2);
    LogicalSlot.ensure(pool, "items", "public.items").onComplete(ctx.succeeding(created -> ctx.verify(() -> {
      assertTrue(created, "the slot is created");
      ctx.completeNow();
    })));
  }

  @AfterEach
  void tearDown(VertxTestContext ctx) {
    if (pool == null) {
      ctx.completeNow();
      return;
    }
    // Readers a failed test left running are stopped first: the slot cannot be dropped while one reads it.
    Async.blocking(vertx, () -> {
      for (WalReader r : started) r.stop(Duration.ofSeconds(10));
      return null;
    })
        .compose(v -> LogicalSlot.drop(pool, "items"))
        .compose(v -> LogicalSlot.present(pool, "items"))
        .map(present -> {
          ctx.verify(() -> assertEquals(false, present, "slot and publication are gone"));
          return null;
        })
        .eventually(pool::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  private WalReader reader(WalReader.Settings settings) {
    WalReader r = new WalReader(connection, "items", new WalKeys("public", "items", List.of("id")), settings, new WalReader.Listener() {
      @Override
      public void truncated(long lsn) {}

      @Override
      public void failed(Throwable error) {
        failures.add(error);
      }
    }, System::nanoTime);
    started.add(r);
    r.start();
    return r;
  }

  /** Stops a reader (it waits for its thread) on a worker. */
  private Future<Void> stop(WalReader r) {
    return Async.blocking(vertx, () -> {
      r.stop(Duration.ofSeconds(10));
      return null;
    });
  }

  /** TestPg's statements, on a worker. */
  private Future<Void> exec(String... sql) {
    return Async.blocking(vertx, () -> pg.exec(db, sql));
  }

  private Future<Void> until(Duration limit, String what, BooleanSupplier condition) {
    return Async.until(vertx, limit, what, () -> Future.succeededFuture(condition.getAsBoolean()));
  }

  private Future<Set<Long>> recordedKeys() {
    return recordedKeysOf("changes_items");
  }

  private Future<Set<Long>> recordedKeysOf(String table) {
    return pool.query("SELECT key[1] FROM sluice." + table).execute().map(rows -> {
      Set<Long> out = new TreeSet<>();
      for (Row row : rows) out.add(Long.parseLong(row.getString(0)));
      return out;
    });
  }

  private Future<Long> confirmedLsn() {
    return Async.scalar(pool, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = 'sluice_items'");
  }

  /** The insert position: with synchronous_commit off (the embedded server), pg_current_wal_lsn() may lag the last commit. */
  private Future<Long> insertLsn() {
    return Async.scalar(pool, "SELECT pg_current_wal_insert_lsn() - '0/0'");
  }

  /** Ends the test once its chain succeeded and no reader reported a failure. */
  private void noFailures(Future<?> test, VertxTestContext ctx) {
    test.onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertTrue(failures.isEmpty(), failures.toString());
      ctx.completeNow();
    })));
  }

  @Test
  void keysOfEveryKindOfChangeAreRecordedAndTheSlotResumes(VertxTestContext ctx) {
    WalReader.Settings small = new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofMillis(200));
    WalReader r = reader(small);
    long[] afterWrites = {0};
    Future<Void> test = exec("INSERT INTO items SELECT g, g FROM generate_series(1, 10) g",
        "UPDATE items SET v = v + 1 WHERE id = 3",
        "UPDATE items SET id = 100 WHERE id = 4",
        "DELETE FROM items WHERE id = 5",
        // one transaction of 20,000 changes: recorded in several batches before its commit arrives
        "INSERT INTO items SELECT g, 0 FROM generate_series(1000, 20999) g")
        .compose(v -> insertLsn())
        .compose(lsn -> {
          afterWrites[0] = lsn;
          return Async.until(vertx, Duration.ofSeconds(60), "every key recorded", () -> recordedKeys().map(k -> k.size() == 10 + 1 + 20_000));
        })
        .compose(v -> recordedKeys())
        .compose(keys -> {
          ctx.verify(() -> assertTrue(keys.containsAll(List.of(1L, 3L, 4L, 5L, 10L, 100L, 1000L, 20999L)), keys.toString()));
          return Async.until(vertx, Duration.ofSeconds(30), "the slot confirmed past the writes", () -> confirmedLsn().map(n -> n >= afterWrites[0]));
        })
        .compose(v -> {
          ctx.verify(() -> assertTrue(r.recorded() >= 20_011, "recorded " + r.recorded()));
          return stop(r);
        })
        .compose(v -> {
          ctx.verify(() -> assertTrue(failures.isEmpty(), failures.toString()));
          // Written while no reader runs: the next one reads them from the slot, and nothing older again.
          return exec("TRUNCATE sluice.changes_items", "UPDATE items SET v = 7 WHERE id IN (1, 2)", "DELETE FROM items WHERE id = 6");
        })
        .compose(v -> {
          WalReader again = reader(small);
          return Async.until(vertx, Duration.ofSeconds(30), "the changes made while stopped", () -> recordedKeys().map(k -> k.equals(Set.of(1L, 2L, 6L))))
              .compose(w -> Async.pause(vertx, 500))
              .compose(w -> recordedKeys())
              .compose(keys -> {
                ctx.verify(() -> assertEquals(Set.of(1L, 2L, 6L), keys, "transactions confirmed before are not read again"));
                return stop(again);
              });
        });
    noFailures(test, ctx);
  }

  @Test
  void keysNotRecordedAreNotConfirmed(VertxTestContext ctx) {
    WalReader.Settings settings = new WalReader.Settings(100, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofMillis(100));
    WalReader r = reader(settings);
    long[] confirmed = {0};
    long[] afterInsert = {0};
    Future<Void> test = exec("INSERT INTO items VALUES (1, 1)")
        .compose(v -> Async.until(vertx, Duration.ofSeconds(30), "the first key", () -> recordedKeys().map(k -> k.equals(Set.of(1L)))))
        .compose(v -> Async.until(vertx, Duration.ofSeconds(30), "a confirmed position", () -> confirmedLsn().map(n -> {
          confirmed[0] = n;
          return n > 0;
        })))
        // The changelog goes away: recording fails, so the reader must stop without confirming.
        .compose(v -> exec("ALTER TABLE sluice.changes_items RENAME TO gone"))
        .compose(v -> exec("INSERT INTO items VALUES (2, 2)"))
        .compose(v -> insertLsn())
        .compose(lsn -> {
          afterInsert[0] = lsn;
          return until(Duration.ofSeconds(30), "the reader fails", () -> !failures.isEmpty());
        })
        .compose(v -> stop(r))
        .compose(v -> confirmedLsn().compose(now -> recordedKeysOf("gone").map(gone -> {
          ctx.verify(() -> {
            assertTrue(now >= confirmed[0], "the confirmed position never goes back");
            assertTrue(now < afterInsert[0], "not confirmed past the insert whose key was not recorded: confirmed " + now
                + ", after the insert " + afterInsert[0] + ", failures " + failures + ", keys " + gone);
          });
          return null;
        })))
        .compose(v -> {
          failures.clear();
          return exec("ALTER TABLE sluice.gone RENAME TO changes_items");
        })
        .compose(v -> {
          WalReader again = reader(settings);
          return Async.until(vertx, Duration.ofSeconds(30), "the key that was not recorded", () -> recordedKeys().map(k -> k.contains(2L)))
              .compose(w -> stop(again));
        });
    noFailures(test, ctx);
  }

  @Test
  void heartbeatMovesTheSlotWhileTheTableIsIdle(VertxTestContext ctx) {
    WalReader r = reader(new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(300),
        Duration.ofMillis(100)));
    long[] after = {0};
    Future<Void> test = until(Duration.ofSeconds(30), "the stream is open", r::streaming)
        // Other tables write (not published): the slot must not keep their WAL.
        .compose(v -> exec("INSERT INTO noise (pad) SELECT repeat('x', 200) FROM generate_series(1, 20000)"))
        .compose(v -> insertLsn())
        .compose(lsn -> {
          after[0] = lsn;
          return Async.until(vertx, Duration.ofSeconds(30), "the slot confirmed past the other table's writes",
              () -> confirmedLsn().map(n -> n >= after[0]));
        })
        .compose(v -> recordedKeys())
        .compose(keys -> {
          ctx.verify(() -> assertEquals(Set.of(), keys));
          return stop(r);
        });
    noFailures(test, ctx);
  }

  @Test
  void anIdleStreamWritesHeartbeatsIntoTheWal(VertxTestContext ctx) {
    // A second slot (test_decoding prints logical messages) sees what the reader writes into the WAL.
    String probe = "sluice_test_hb_" + ProcessHandle.current().pid();
    pg.exec(db, "SELECT pg_create_logical_replication_slot('" + probe + "', 'test_decoding')");
    WalReader r = reader(new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(300),
        Duration.ofMillis(100)));
    Future<Void> test = Async.until(vertx, Duration.ofSeconds(30), "heartbeats while the table is idle", () -> Async.scalar(pool,
            "SELECT count(*) FROM pg_logical_slot_peek_changes('" + probe + "', NULL, NULL) WHERE data LIKE 'message: transactional: 0 prefix: "
                + LogicalSlot.HEARTBEAT_PREFIX + ",%'").map(n -> n >= 2))
        .compose(v -> stop(r))
        .compose(v -> recordedKeys())
        .map(keys -> {
          ctx.verify(() -> assertEquals(Set.of(), keys, "a heartbeat records no key"));
          return (Void) null;
        })
        .eventually(() -> exec("SELECT pg_drop_replication_slot('" + probe + "')"));
    noFailures(test, ctx);
  }
}
