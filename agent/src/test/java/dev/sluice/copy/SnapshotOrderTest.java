package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * When a read's snapshot is taken relative to its table lock, proven with two sessions: one holds
 * ACCESS EXCLUSIVE with an uncommitted table rewrite, the other starts reading (and waits for the
 * lock), then the rewrite commits. A snapshot taken before the lock was granted sees the rewritten
 * table empty; one taken after sees every row (issue 16).
 */
class SnapshotOrderTest {
  private static final int ROWS = 1_000;
  private static final TestPg pg = TestPg.get();
  private static Vertx vertx;

  @BeforeAll
  static void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void close() {
    Await.result(vertx.close());
  }

  private static String table(String prefix) {
    String db = pg.createDatabase(prefix);
    pg.exec(db, "CREATE TABLE accounts (aid int PRIMARY KEY, abalance int NOT NULL)",
        "INSERT INTO accounts SELECT g, g % 1000 FROM generate_series(1, " + ROWS + ") g");
    return db;
  }

  /**
   * Runs {@code read} while {@code rewrite} holds ACCESS EXCLUSIVE on {@code accounts} uncommitted;
   * commits the rewrite once the read waits for its lock; returns what the read counted.
   */
  private static long readAcross(String db, String rewrite, Callable<Long> read) throws Exception {
    try (Connection ddl = pg.connect(db); Statement st = ddl.createStatement()) {
      ddl.setAutoCommit(false);
      st.execute(rewrite);
      CompletableFuture<Long> rows = CompletableFuture.supplyAsync(() -> {
        try {
          return read.call();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Eventually.until(Duration.ofSeconds(20), "the read waits for its lock on accounts", () -> pg.scalar(db,
          "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = (SELECT oid FROM pg_class WHERE relname = 'accounts')") >= 1);
      ddl.commit();
      return rows.get(30, TimeUnit.SECONDS);
    }
  }

  private static long jdbcCount(String db, String... first) throws Exception {
    try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
      for (String s : first) st.execute(s);
      try (ResultSet r = st.executeQuery("SELECT count(*) FROM accounts")) {
        r.next();
        long n = r.getLong(1);
        st.execute("COMMIT");
        return n;
      }
    }
  }

  /** The hazard is real on this server, so the tests below can fail: without the LOCK the reader would copy nothing. */
  @Test
  void aRepeatableReadSnapshotTakenBeforeItsLockSeesARewrittenTableEmpty() throws Exception {
    String db = table("snap_hollow");
    long n = readAcross(db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint",
        () -> jdbcCount(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    assertEquals(0, n, "a snapshot from before the rewrite sees its new files empty");
  }

  @Test
  void lockingFirstTakesTheSnapshotAfterARewriteOrATruncate() throws Exception {
    String db = table("snap_lock");
    assertEquals(ROWS, readAcross(db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint",
        () -> jdbcCount(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "LOCK TABLE accounts IN ACCESS SHARE MODE")));
    assertEquals(ROWS, readAcross(db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE integer USING abalance + 1",
        () -> jdbcCount(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "LOCK TABLE accounts IN ACCESS SHARE MODE")));
    assertEquals(0, readAcross(db, "TRUNCATE accounts",
        () -> jdbcCount(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "LOCK TABLE accounts IN ACCESS SHARE MODE")));
  }

  /** A single READ COMMITTED statement (every other read of Sluice's) takes its snapshot once its locks are granted. */
  @Test
  void aReadCommittedStatementTakesItsSnapshotAfterItsLock() throws Exception {
    String db = table("snap_rc");
    assertEquals(ROWS, readAcross(db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint", () -> jdbcCount(db)));
  }

  /** The same-database copy is one READ COMMITTED {@code INSERT .. SELECT}: it inserts every row of a table rewritten while it waited. */
  @Test
  void aServerSideInsertSelectCopiesEveryRowOfATableRewrittenWhileItWaited() throws Exception {
    String db = table("snap_insert");
    pg.exec(db, "CREATE TABLE copy (aid int PRIMARY KEY, abalance bigint)");
    assertEquals(ROWS, readAcross(db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint USING abalance + 1", () -> {
      try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
        return (long) st.executeUpdate("INSERT INTO copy SELECT aid, abalance FROM accounts");
      }
    }));
    assertEquals(0, pg.scalar(db, "SELECT count(*) FROM copy c JOIN accounts a USING (aid) WHERE c.abalance <> a.abalance"),
        "the copy holds the rewritten values");
  }

  /** The copy's own reader, through a Sluice session of a database whose default isolation is REPEATABLE READ. */
  @Test
  void theReaderSeesEveryRowOfATableRewrittenWhileItWaited() throws Exception {
    String db = table("snap_reader");
    pg.exec(db, "ALTER DATABASE " + db + " SET default_transaction_isolation = 'repeatable read'");
    SluiceConfig config = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"},
         "jobs": [{"name": "accounts", "source": {"table": "public.accounts", "key": ["aid"]}, "target": {"table": "public.copy"}}]}"""
        .formatted(pg.url(db), pg.url(db)));
    JobConfig job = config.jobs().get(0);
    JobShape shape = new JobShape(job, List.of(new JobShape.Column("aid", "\"aid\"", "integer", true),
        new JobShape.Column("abalance", "\"abalance\"", "integer", false)), List.of("aid"), List.of("aid"), List.of("integer"), true, ROWS, true);
    Pool source = Databases.pool(vertx, config.source(), "sluice-source", 2);
    try {
      Reader reader = new Reader(source, new SegmentSql(shape));
      // Sluice's sessions read committed whatever the database's default: a single statement's snapshot follows its lock.
      assertEquals("read committed", Await.result(source.query("SHOW transaction_isolation").execute()).iterator().next().getString(0));
      assertEquals(ROWS, readAcross(db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint", () -> {
        Reader.Stream stream = Await.result(reader.open(new KeyRange(null, null)), 30, TimeUnit.SECONDS);
        try {
          long n = 0;
          for (Batch b; (b = Await.result(stream.next(300), 30, TimeUnit.SECONDS)).size() > 0; ) n += b.size();
          return n;
        } finally {
          Await.result(stream.close());
        }
      }));
      // A plain statement of a Sluice session, too.
      assertEquals(ROWS, readAcross(db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE integer USING abalance + 1",
          () -> Await.result(source.query("SELECT count(*) FROM accounts").execute()).iterator().next().getLong(0)));
    } finally {
      Await.result(source.close());
    }
  }
}
