package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.SessionLimits;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A watched pool handed out as a plain {@link Pool} ({@link WatchedPool#timedPool}): every way of
 * running a query through it is timed (a plain query, a prepared one, one mapped to another type,
 * a batch), a statement with no answer for the stall timeout fails saying so, and the pool then runs
 * the next statement on a fresh connection. The statement that does not answer is a {@code pg_sleep}:
 * to the client the same as a server that went silent.
 */
class TimedQueriesTest {
  private final TestPg pg = TestPg.get();

  @Test
  void everyWayOfRunningAQueryIsTimedAndTheNextRunsOnAFreshConnection() throws Exception {
    Vertx vertx = Vertx.vertx();
    String db = pg.createDatabase("tq");
    pg.exec(db, "CREATE TABLE t (id int PRIMARY KEY)");
    WatchedPool watched = WatchedPool.open(vertx, pg.database(db), "final verification", "sluice-verify-test", "target", 1,
        new SessionLimits(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1)));
    Pool pool = watched.timedPool("verifying");
    try {
      assertEquals(7, (int) SyncSetup.await(pool.query("SELECT 7").execute()).iterator().next().getInteger(0));
      assertEquals(8, (int) SyncSetup.await(pool.preparedQuery("SELECT $1::int").execute(Tuple.of(8))).iterator().next().getInteger(0));
      RowSet<Integer> mapped = SyncSetup.await(pool.preparedQuery("SELECT $1::int + 1").mapping(r -> r.getInteger(0)).execute(Tuple.of(8)));
      assertEquals(9, mapped.iterator().next());
      SyncSetup.await(pool.preparedQuery("INSERT INTO t VALUES ($1)").executeBatch(List.of(Tuple.of(1), Tuple.of(2))));
      assertEquals(2, pg.scalar(db, "SELECT count(*) FROM t"));
      long pid = SyncSetup.await(pool.query("SELECT pg_backend_pid()").execute()).iterator().next().getInteger(0);

      List<Future<?>> silent = List.of(
          pool.query("SELECT pg_sleep(5)").execute(),
          pool.preparedQuery("SELECT pg_sleep($1)").execute(Tuple.of(5)),
          pool.preparedQuery("SELECT pg_sleep($1)").mapping(r -> r.getValue(0)).execute(Tuple.of(5)),
          pool.preparedQuery("SELECT pg_sleep($1)").executeBatch(List.of(Tuple.of(5))));
      long start = System.nanoTime();
      for (Future<?> f : silent) {
        Throwable e = SyncSetup.await(f.transform(ar -> Future.succeededFuture(ar.cause())));
        assertInstanceOf(DatabaseStalled.class, e, String.valueOf(e));
        assertTrue(e.getMessage().startsWith("the target stalled: no answer for ") && e.getMessage().endsWith(
            " while verifying (sessions.stallTimeoutMs 1000); the final verification's connections to it were reset"), e.getMessage());
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(seconds < 4, "all failed within the stall timeout of the first (the pool's one connection reset): " + seconds + " s");

      Eventually.until(Duration.ofSeconds(5), "the silent connection reset", () -> watched.open() == 0);
      Row next = SyncSetup.await(pool.query("SELECT pg_backend_pid()").execute()).iterator().next();
      assertTrue(next.getInteger(0) != pid, "a fresh connection");
    } finally {
      SyncSetup.await(watched.close());
      SyncSetup.await(vertx.close());
    }
  }

  /**
   * On a connection taken from a timed pool ({@code withTransaction}, {@code withConnection},
   * {@code getConnection}) every statement is timed, one at a time: a transaction of short statements
   * that lasts longer than the stall timeout goes through; one statement with no answer fails the
   * transaction saying so, nothing of it is committed, and the pool's one connection is not lost.
   */
  @Test
  void aConnectionsStatementsAreTimedOneByOne() throws Exception {
    Vertx vertx = Vertx.vertx();
    String db = pg.createDatabase("tqc");
    pg.exec(db, "CREATE TABLE t (id int PRIMARY KEY)");
    WatchedPool watched = WatchedPool.open(vertx, pg.database(db), "ledger", "sluice-ledger-test", "target", 1,
        new SessionLimits(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1)));
    Pool pool = watched.timedPool("reading or writing the ledger");
    try {
      // Four statements of 0.4 s each: 1.6 s in all, longer than the stall timeout, none silent for it (each with
      // 0.6 s of slack for a loaded machine).
      SyncSetup.await(pool.withTransaction(c -> c.query("SELECT pg_sleep(0.4)").execute()
          .compose(x -> c.preparedQuery("INSERT INTO t VALUES ($1)").execute(Tuple.of(1)))
          .compose(x -> c.query("SELECT pg_sleep(0.4)").execute())
          .compose(x -> c.query("SELECT pg_sleep(0.4)").execute())
          .compose(x -> c.query("SELECT pg_sleep(0.4)").execute())));
      assertEquals(1, pg.scalar(db, "SELECT count(*) FROM t"));

      List<Future<?>> silent = List.of(
          pool.withTransaction(c -> c.preparedQuery("INSERT INTO t VALUES ($1)").execute(Tuple.of(2))
              .compose(x -> c.query("SELECT pg_sleep(5)").execute())),
          pool.withConnection(c -> c.preparedQuery("SELECT pg_sleep($1)").execute(Tuple.of(5))),
          pool.getConnection().compose(c -> c.begin().compose(tx -> c.query("SELECT pg_sleep(5)").execute()).eventually(c::close)));
      for (Future<?> f : silent) {
        long start = System.nanoTime();
        Throwable e = SyncSetup.await(f.transform(ar -> Future.succeededFuture(ar.cause())));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertInstanceOf(DatabaseStalled.class, e, String.valueOf(e));
        assertTrue(e.getMessage().endsWith(" while reading or writing the ledger (sessions.stallTimeoutMs 1000); "
            + "the ledger's connections to it were reset"), e.getMessage());
        assertTrue(seconds < 4, "failed within the stall timeout (and the two before it): " + seconds + " s");
      }
      assertEquals(1, pg.scalar(db, "SELECT count(*) FROM t"), "the stalled transaction's insert not committed");
      assertEquals(3, (int) SyncSetup.await(pool.withTransaction(c -> c.query("SELECT 3").execute())).iterator().next().getInteger(0),
          "the pool's one connection came back (fresh)");
    } finally {
      SyncSetup.await(pool.close());
      Eventually.until(Duration.ofSeconds(5), "closed, its connections reset", () -> watched.open() == 0);
      SyncSetup.await(vertx.close());
    }
  }
}
