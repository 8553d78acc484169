package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The WAL reader against the test server: the keys of inserts, updates (of the key too), deletes
 * and bulk statements reach the changelog; the slot's confirmed position moves only past recorded
 * transactions; a new reader resumes from the slot; the heartbeat moves an idle table's slot.
 */
class WalReaderTest {
  private final TestPg pg = TestPg.get();
  private Vertx vertx;
  private Pool pool;
  private String db;
  private PgConnectOptions options;
  private dev.sluice.db.ConnectionSettings connection;
  private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void setUp() {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    db = pg.createDatabase("walr");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "CREATE TABLE noise (id bigserial PRIMARY KEY, pad text)",
        "CREATE SCHEMA sluice", "CREATE TABLE sluice.changes_items (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
    vertx = Vertx.vertx();
    options = PgConnectOptions.fromUri(pg.url(db));
    connection = dev.sluice.db.Databases.settings(pg.database(db), "sluice-wal");
    pool = Databases.pool(vertx, TestPg.config(options, 2), "sluice-test", 2);
    assertTrue(Await.result(LogicalSlot.ensure(pool, "items", "public.items")), "the slot is created");
  }

  @AfterEach
  void tearDown() {
    if (pool != null) {
      Await.result(LogicalSlot.drop(pool, "items"));
      assertEquals(false, Await.result(LogicalSlot.present(pool, "items")), "slot and publication are gone");
      Await.result(pool.close());
    }
    if (vertx != null) Await.result(vertx.close());
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
    r.start();
    return r;
  }

  private Set<Long> recordedKeys() {
    Set<Long> out = new TreeSet<>();
    for (String k : pg.strings(db, "SELECT key[1] FROM sluice.changes_items")) out.add(Long.parseLong(k));
    return out;
  }

  private Set<Long> recordedKeysOf(String table) {
    Set<Long> out = new TreeSet<>();
    for (String k : pg.strings(db, "SELECT key[1] FROM sluice." + table)) out.add(Long.parseLong(k));
    return out;
  }

  private long confirmedLsn() {
    return pg.scalar(db, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = 'sluice_items'");
  }

  @Test
  void keysOfEveryKindOfChangeAreRecordedAndTheSlotResumes() throws Exception {
    WalReader.Settings small = new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofMillis(200));
    WalReader r = reader(small);
    pg.exec(db, "INSERT INTO items SELECT g, g FROM generate_series(1, 10) g",
        "UPDATE items SET v = v + 1 WHERE id = 3",
        "UPDATE items SET id = 100 WHERE id = 4",
        "DELETE FROM items WHERE id = 5",
        // one transaction of 20,000 changes: recorded in several batches before its commit arrives
        "INSERT INTO items SELECT g, 0 FROM generate_series(1000, 20999) g");
    long afterWrites = pg.scalar(db, "SELECT pg_current_wal_insert_lsn() - '0/0'");
    Eventually.until(Duration.ofSeconds(60), "every key recorded", () -> recordedKeys().size() == 10 + 1 + 20_000);
    Set<Long> keys = recordedKeys();
    assertTrue(keys.containsAll(List.of(1L, 3L, 4L, 5L, 10L, 100L, 1000L, 20999L)), keys.toString());
    Eventually.until(Duration.ofSeconds(30), "the slot confirmed past the writes", () -> confirmedLsn() >= afterWrites);
    assertTrue(r.recorded() >= 20_011, "recorded " + r.recorded());
    r.stop(Duration.ofSeconds(10));
    assertTrue(failures.isEmpty(), failures.toString());

    // Written while no reader runs: the next one reads them from the slot, and nothing older again.
    pg.exec(db, "TRUNCATE sluice.changes_items", "UPDATE items SET v = 7 WHERE id IN (1, 2)", "DELETE FROM items WHERE id = 6");
    WalReader again = reader(small);
    Eventually.until(Duration.ofSeconds(30), "the changes made while stopped", () -> recordedKeys().equals(Set.of(1L, 2L, 6L)));
    Eventually.pause(500);
    assertEquals(Set.of(1L, 2L, 6L), recordedKeys(), "transactions confirmed before are not read again");
    again.stop(Duration.ofSeconds(10));
    assertTrue(failures.isEmpty(), failures.toString());
  }

  @Test
  void keysNotRecordedAreNotConfirmed() throws Exception {
    WalReader r = reader(new WalReader.Settings(100, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofMillis(100)));
    pg.exec(db, "INSERT INTO items VALUES (1, 1)");
    Eventually.until(Duration.ofSeconds(30), "the first key", () -> recordedKeys().equals(Set.of(1L)));
    long confirmed = Eventually.value(Duration.ofSeconds(30), "a confirmed position", () -> confirmedLsn() > 0 ? confirmedLsn() : null);
    // The changelog goes away: recording fails, so the reader must stop without confirming.
    pg.exec(db, "ALTER TABLE sluice.changes_items RENAME TO gone");
    pg.exec(db, "INSERT INTO items VALUES (2, 2)");
    // The insert position: with synchronous_commit off (the embedded server), pg_current_wal_lsn() may
    // not have reached the insert's commit yet.
    long afterInsert = pg.scalar(db, "SELECT pg_current_wal_insert_lsn() - '0/0'");
    Eventually.until(Duration.ofSeconds(30), "the reader fails", () -> !failures.isEmpty());
    r.stop(Duration.ofSeconds(10));
    assertTrue(confirmedLsn() >= confirmed, "the confirmed position never goes back");
    assertTrue(confirmedLsn() < afterInsert, "not confirmed past the insert whose key was not recorded: confirmed " + confirmedLsn()
        + ", after the insert " + afterInsert + ", failures " + failures + ", keys " + recordedKeysOf("gone"));
    failures.clear();
    pg.exec(db, "ALTER TABLE sluice.gone RENAME TO changes_items");
    WalReader again = reader(new WalReader.Settings(100, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofMillis(100)));
    Eventually.until(Duration.ofSeconds(30), "the key that was not recorded", () -> recordedKeys().contains(2L));
    again.stop(Duration.ofSeconds(10));
    assertTrue(failures.isEmpty(), failures.toString());
  }

  @Test
  void heartbeatMovesTheSlotWhileTheTableIsIdle() throws Exception {
    WalReader r = reader(new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(300),
        Duration.ofMillis(100)));
    Eventually.until(Duration.ofSeconds(30), "the stream is open", r::streaming);
    // Other tables write (not published): the slot must not keep their WAL.
    pg.exec(db, "INSERT INTO noise (pad) SELECT repeat('x', 200) FROM generate_series(1, 20000)");
    long after = pg.scalar(db, "SELECT pg_current_wal_insert_lsn() - '0/0'");
    Eventually.until(Duration.ofSeconds(30), "the slot confirmed past the other table's writes", () -> confirmedLsn() >= after);
    assertEquals(Set.of(), recordedKeys());
    r.stop(Duration.ofSeconds(10));
    assertTrue(failures.isEmpty(), failures.toString());
  }

  @Test
  void anIdleStreamWritesHeartbeatsIntoTheWal() throws Exception {
    // A second slot (test_decoding prints logical messages) sees what the reader writes into the WAL.
    String probe = "sluice_test_hb_" + ProcessHandle.current().pid();
    pg.exec(db, "SELECT pg_create_logical_replication_slot('" + probe + "', 'test_decoding')");
    try {
      WalReader r = reader(new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(300),
          Duration.ofMillis(100)));
      Eventually.until(Duration.ofSeconds(30), "heartbeats while the table is idle", () -> pg.scalar(db, "SELECT count(*) FROM "
          + "pg_logical_slot_peek_changes('" + probe + "', NULL, NULL) WHERE data LIKE 'message: transactional: 0 prefix: "
          + LogicalSlot.HEARTBEAT_PREFIX + ",%'") >= 2);
      r.stop(Duration.ofSeconds(10));
      assertEquals(Set.of(), recordedKeys(), "a heartbeat records no key");
      assertTrue(failures.isEmpty(), failures.toString());
    } finally {
      pg.exec(db, "SELECT pg_drop_replication_slot('" + probe + "')");
    }
  }
}
