package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The target write of a key sync with MERGE (PostgreSQL 15+) against the upsert (every version), on
 * the same changes: rows changed, equal (left alone), missing, set to NULL, a key changed (old key
 * deleted, new one inserted), a key never there, a row outside the keys untouched; the fence; and a
 * key inserted concurrently between the MERGE's lookup and its insert.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KeyMergeTest {
  private static final String ROWS = "SELECT id || '|' || name || '|' || coalesce(note, 'NULL') || '|' || n FROM t ORDER BY id";
  private final TestPg pg = TestPg.get();
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return SyncSetup.await(f);
  }

  private SyncSetup setup(String name) throws Exception {
    String src = pg.createDatabase(name + "_src");
    String tgt = pg.createDatabase(name + "_tgt");
    String table = "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, note text, n numeric)";
    pg.exec(src, table, "INSERT INTO t VALUES (1, 'one', 'new', 1.5), (2, 'two', NULL, 2), (3, 'three', 'x', 3), "
        + "(4, 'four', NULL, 4), (6, 'five moved to six', 'k', 6), (8, 'eight', 'src', 8)");
    pg.exec(tgt, table, "INSERT INTO t VALUES (1, 'one', 'old', 1), (2, 'two', NULL, 2), (4, 'four', 'was set', 4), "
        + "(5, 'five moved to six', 'k', 6), (8, 'eight', 'tgt', 8)");
    return SyncSetup.open(vertx, pg, src, tgt, "km");
  }

  private static final List<List<String>> KEYS = List.of(List.of("1"), List.of("2"), List.of("3"), List.of("4"), List.of("5"),
      List.of("6"), List.of("7"));

  @Test
  void mergeAndUpsertLeaveTheSameRows() throws Exception {
    assumeTrue(pg.serverMajor() >= 15, "MERGE needs PostgreSQL 15 (this server: " + pg.serverMajor() + ")");
    SyncSetup m = setup("km_merge");
    SyncSetup u = setup("km_upsert");
    long xmin2 = pg.scalar(m.tgt(), "SELECT xmin::text::bigint FROM t WHERE id = 2");
    KeySync.Result rm = await(new KeySync(m.shape(), m.source(), m.target()).sync(KEYS));
    KeySync.Result ru = await(new KeySync(u.shape(), u.source(), u.target(), false).sync(KEYS));
    List<String> expected = List.of("1|one|new|1.5", "2|two|NULL|2", "3|three|x|3", "4|four|NULL|4", "6|five moved to six|k|6",
        "8|eight|tgt|8");
    assertEquals(expected, pg.strings(m.tgt(), ROWS), "MERGE: changed, missing, NULLed and moved keys written, 5 deleted, 8 untouched");
    assertEquals(expected, pg.strings(u.tgt(), ROWS), "upsert: the same rows");
    assertEquals(new KeySync.Result(4, 1), rm, "rows 1, 3, 4, 6 written (2 was equal), row 5 deleted");
    assertEquals(rm, ru);
    assertEquals(xmin2, pg.scalar(m.tgt(), "SELECT xmin::text::bigint FROM t WHERE id = 2"), "the equal row was not rewritten");
    // Idempotent: the same keys again write nothing.
    assertEquals(new KeySync.Result(0, 0), await(new KeySync(m.shape(), m.source(), m.target()).sync(KEYS)));
    m.close();
    u.close();
  }

  @Test
  void mergeWritesNothingOnceTheJobIsFenced() throws Exception {
    assumeTrue(pg.serverMajor() >= 15, "MERGE needs PostgreSQL 15 (this server: " + pg.serverMajor() + ")");
    SyncSetup m = setup("km_fence");
    pg.exec(m.tgt(), "UPDATE sluice.jobs SET state = 'rolling_back'");
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> await(new KeySync(m.shape(), m.source(), m.target()).sync(KEYS)));
    assertInstanceOf(KeySync.JobFenced.class, e.getCause());
    assertEquals(List.of("1|one|old|1", "2|two|NULL|2", "4|four|was set|4", "5|five moved to six|k|6", "8|eight|tgt|8"),
        pg.strings(m.tgt(), ROWS), "nothing written, nothing deleted");
    m.close();
  }

  /**
   * Key 3 is inserted on the target by another transaction after the MERGE looked it up: the MERGE
   * waits for it, then fails with unique_violation, and the sync writes the rows with the upsert.
   */
  @Test
  void aKeyInsertedConcurrentlyIsWrittenByTheUpsert() throws Exception {
    assumeTrue(pg.serverMajor() >= 15, "MERGE needs PostgreSQL 15 (this server: " + pg.serverMajor() + ")");
    SyncSetup m = setup("km_race");
    try (Connection other = pg.connect(m.tgt()); Statement st = other.createStatement()) {
      other.setAutoCommit(false);
      st.execute("INSERT INTO t VALUES (3, 'inserted by another writer', NULL, 0)");
      Future<KeySync.Result> sync = new KeySync(m.shape(), m.source(), m.target()).sync(KEYS);
      long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (pg.scalar("postgres", "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%MERGE INTO%'") == 0) {
        if (System.nanoTime() > end) throw new AssertionError("the MERGE never waited for the other writer's key");
        Thread.sleep(20);
      }
      other.commit();
      assertEquals(new KeySync.Result(4, 1), await(sync));
    }
    assertEquals("3|three|x|3", pg.strings(m.tgt(), ROWS).get(2), "the source's row 3, over the other writer's");
    m.close();
  }
}
