package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * When a read's snapshot is taken relative to its table lock, proven with two sessions: one holds
 * ACCESS EXCLUSIVE with an uncommitted table rewrite, the other starts reading (and waits for the
 * lock), then the rewrite commits. A snapshot taken before the lock was granted sees the rewritten
 * table empty; one taken after sees every row (issue 16).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class SnapshotOrderTest {
  private static final int ROWS = 1_000;
  private static final TestPg pg = TestPg.get();

  private static String table(String prefix) {
    String db = pg.createDatabase(prefix);
    pg.exec(db, "CREATE TABLE accounts (aid int PRIMARY KEY, abalance int NOT NULL)",
        "INSERT INTO accounts SELECT g, g % 1000 FROM generate_series(1, " + ROWS + ") g");
    return db;
  }

  /**
   * Runs {@code read} while {@code rewrite} holds ACCESS EXCLUSIVE on {@code accounts} uncommitted;
   * commits the rewrite once the read waits for its lock; gives what the read counted. The rewrite's
   * session is blocking JDBC, held across steps that each run on a worker.
   */
  private static Future<Long> readAcross(Vertx vertx, String db, String rewrite, Supplier<Future<Long>> read) {
    return Async.blocking(vertx, () -> {
      Connection ddl = pg.connect(db);
      try {
        ddl.setAutoCommit(false);
        try (Statement st = ddl.createStatement()) {
          st.execute(rewrite);
        }
        return ddl;
      } catch (SQLException | RuntimeException e) {
        ddl.close();
        throw e;
      }
    }).compose(ddl -> {
      Future<Long> rows = read.get();
      return Async.until(vertx, Duration.ofSeconds(20), "the read waits for its lock on accounts", () -> Async.blocking(vertx, () -> pg.scalar(db,
              "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = (SELECT oid FROM pg_class WHERE relname = 'accounts')") >= 1))
          .compose(v -> Async.blocking(vertx, () -> {
            ddl.commit();
            return null;
          }))
          .compose(v -> rows)
          // Closed whatever happened: an uncommitted rewrite rolls back and lets the read go.
          .eventually(() -> Async.blocking(vertx, () -> {
            ddl.close();
            return null;
          }));
    });
  }

  /** A count of {@code accounts} on a JDBC session of its own after {@code first}, on a worker. */
  private static Future<Long> jdbcCount(Vertx vertx, String db, String... first) {
    return Async.blocking(vertx, () -> {
      try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
        for (String s : first) st.execute(s);
        try (ResultSet r = st.executeQuery("SELECT count(*) FROM accounts")) {
          r.next();
          long n = r.getLong(1);
          st.execute("COMMIT");
          return n;
        }
      }
    });
  }

  /** The hazard is real on this server, so the tests below can fail: without the LOCK the reader would copy nothing. */
  @Test
  void aRepeatableReadSnapshotTakenBeforeItsLockSeesARewrittenTableEmpty(Vertx vertx, VertxTestContext ctx) {
    String db = table("snap_hollow");
    readAcross(vertx, db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint",
        () -> jdbcCount(vertx, db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
          assertEquals(0, n, "a snapshot from before the rewrite sees its new files empty");
          ctx.completeNow();
        })));
  }

  @Test
  void lockingFirstTakesTheSnapshotAfterARewriteOrATruncate(Vertx vertx, VertxTestContext ctx) {
    String db = table("snap_lock");
    Checkpoint reads = ctx.checkpoint(3);
    Supplier<Future<Long>> lockingRead = () -> jdbcCount(vertx, db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "LOCK TABLE accounts IN ACCESS SHARE MODE");
    readAcross(vertx, db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint", lockingRead)
        .compose(n -> {
          ctx.verify(() -> assertEquals(ROWS, n));
          reads.flag();
          return readAcross(vertx, db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE integer USING abalance + 1", lockingRead);
        })
        .compose(n -> {
          ctx.verify(() -> assertEquals(ROWS, n));
          reads.flag();
          return readAcross(vertx, db, "TRUNCATE accounts", lockingRead);
        })
        .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
          assertEquals(0, n);
          reads.flag();
        })));
  }

  /** A single READ COMMITTED statement (every other read of Sluice's) takes its snapshot once its locks are granted. */
  @Test
  void aReadCommittedStatementTakesItsSnapshotAfterItsLock(Vertx vertx, VertxTestContext ctx) {
    String db = table("snap_rc");
    readAcross(vertx, db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint", () -> jdbcCount(vertx, db))
        .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
          assertEquals(ROWS, n);
          ctx.completeNow();
        })));
  }

  /** The same-database copy is one READ COMMITTED {@code INSERT .. SELECT}: it inserts every row of a table rewritten while it waited. */
  @Test
  void aServerSideInsertSelectCopiesEveryRowOfATableRewrittenWhileItWaited(Vertx vertx, VertxTestContext ctx) {
    String db = table("snap_insert");
    pg.exec(db, "CREATE TABLE copy (aid int PRIMARY KEY, abalance bigint)");
    Checkpoint checked = ctx.checkpoint(2);
    readAcross(vertx, db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint USING abalance + 1", () -> Async.blocking(vertx, () -> {
      try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
        return (long) st.executeUpdate("INSERT INTO copy SELECT aid, abalance FROM accounts");
      }
    }))
        .compose(n -> {
          ctx.verify(() -> assertEquals(ROWS, n));
          checked.flag();
          return Async.blocking(vertx, () -> pg.scalar(db, "SELECT count(*) FROM copy c JOIN accounts a USING (aid) WHERE c.abalance <> a.abalance"));
        })
        .onComplete(ctx.succeeding(differ -> ctx.verify(() -> {
          assertEquals(0, differ, "the copy holds the rewritten values");
          checked.flag();
        })));
  }

  /** The copy's own reader, through a Sluice session of a database whose default isolation is REPEATABLE READ. */
  @Test
  void theReaderSeesEveryRowOfATableRewrittenWhileItWaited(Vertx vertx, VertxTestContext ctx) {
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
    Reader reader = new Reader(source, new SegmentSql(shape));
    Checkpoint checked = ctx.checkpoint(3);
    source.query("SHOW transaction_isolation").execute()
        .compose(rows -> {
          // Sluice's sessions read committed whatever the database's default: a single statement's snapshot follows its lock.
          ctx.verify(() -> assertEquals("read committed", rows.iterator().next().getString(0)));
          checked.flag();
          return readAcross(vertx, db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE bigint",
              () -> reader.open(new KeyRange(null, null)).compose(stream -> count(stream, 0).eventually(stream::close)));
        })
        .compose(n -> {
          ctx.verify(() -> assertEquals(ROWS, n));
          checked.flag();
          // A plain statement of a Sluice session, too.
          return readAcross(vertx, db, "ALTER TABLE accounts ALTER COLUMN abalance TYPE integer USING abalance + 1",
              () -> source.query("SELECT count(*) FROM accounts").execute().map(rows -> rows.iterator().next().getLong(0)));
        })
        .eventually(source::close)
        .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
          assertEquals(ROWS, n);
          checked.flag();
        })));
  }

  /** The rows of {@code stream} from here on, read in batches of 300 until an empty one. */
  private static Future<Long> count(Reader.Stream stream, long sofar) {
    return stream.next(300).compose(b -> b.size() == 0 ? Future.succeededFuture(sofar) : count(stream, sofar + b.size()));
  }
}
