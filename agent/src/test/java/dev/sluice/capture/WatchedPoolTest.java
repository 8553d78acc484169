package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SessionLimits;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The applier's pool to a target whose connection stops answering in the middle of a write (that
 * connection only, for good: a flow a firewall dropped): the key sync fails within the stall timeout
 * with a reason naming the side and the statement, the pool's connection is reset (none stays open
 * waiting), and the next sync writes the keys on a fresh connection. Before, the sync waited for as
 * long as the connection stayed silent, and the pool's close with it.
 */
class WatchedPoolTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aWriteWithNoAnswerFailsWithinTheStallTimeoutAndTheNextOneRunsOnAFreshConnection() throws Exception {
    Vertx vertx = Vertx.vertx();
    String src = pg.createDatabase("wp_src");
    String tgt = pg.createDatabase("wp_tgt");
    pg.exec(src, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)", "INSERT INTO t SELECT g, 'new ' || g FROM generate_series(1, 100) g");
    pg.exec(tgt, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)", "INSERT INTO t SELECT g, 'old' FROM generate_series(1, 100) g");
    SyncSetup s = SyncSetup.open(vertx, pg, src, tgt, "wp");
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      DatabaseConfig direct = pg.database(tgt);
      DatabaseConfig via = new DatabaseConfig("127.0.0.1", proxy.port(), tgt, direct.user(), null, null, direct.tls(), 1);
      WatchedPool target = WatchedPool.open(vertx, via, "target", 1, new SessionLimits(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1)));
      KeySync sync = new KeySync(s.shape(), WatchedPool.unwatched(s.source()), target);
      try {
        SyncSetup.await(sync.sync(keys(1, 50)));
        int opened = proxy.connections();
        assertEquals(1, target.open(), "the pool's one connection, known to it");

        proxy.freeze(opened - 1); // the pool's connection (the last the proxy accepted)
        long start = System.nanoTime();
        Throwable error = SyncSetup.await(sync.sync(keys(51, 100)).transform(ar -> Future.succeededFuture(ar.cause())));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertInstanceOf(DatabaseStalled.class, error, String.valueOf(error));
        String m = error.getMessage();
        assertTrue(m.startsWith("the target stalled: no answer for ") && m.endsWith(
            " while writing changed keys (sessions.stallTimeoutMs 1000); the applier's connections to it were reset"), m);
        assertTrue(seconds >= 1 && seconds < 5, "failed after " + seconds + " s: " + m);
        Eventually.until(Duration.ofSeconds(5), "the frozen connection reset", () -> target.open() == 0);

        // The frozen connection stays frozen: the pool opens a fresh one.
        SyncSetup.await(sync.sync(keys(51, 100)));
        assertTrue(proxy.connections() > opened, "a fresh connection");
        assertEquals(1, target.open());
        assertEquals(pg.strings(src, "SELECT id || ' ' || v FROM t ORDER BY id"), pg.strings(tgt, "SELECT id || ' ' || v FROM t ORDER BY id"));
        // Closing the pool while its connection is silent: reset, not held (vertx-pg-client's own close waits for the server).
        proxy.freeze(proxy.connections() - 1);
        long closing = System.nanoTime();
        SyncSetup.await(target.close());
        assertTrue(System.nanoTime() - closing < 4_000_000_000L, "the pool closed at once");
      } finally {
        proxy.thaw();
        s.close();
        SyncSetup.await(vertx.close());
      }
    }
  }

  /**
   * A statement handed one of the pool's connections just as the pool resets them all for another
   * statement's stall fails with its connection closed; it carries the stall's reason, as the
   * statements in flight do (ApplierStallTest once saw the applier report only "Failed to read any
   * response from the server": its next statement had started as the backlog gauge's stalled).
   */
  @Test
  void aStatementThatMeetsTheResetCarriesTheStallsReason() throws Exception {
    Vertx vertx = Vertx.vertx();
    String tgt = pg.createDatabase("wp_race");
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      DatabaseConfig direct = pg.database(tgt);
      DatabaseConfig via = new DatabaseConfig("127.0.0.1", proxy.port(), tgt, direct.user(), null, null, direct.tls(), 1);
      WatchedPool target = WatchedPool.open(vertx, via, "target", 2, new SessionLimits(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1)));
      try {
        // Two connections in the pool, both idle.
        SyncSetup.await(Future.all(
            target.timed("warming", () -> target.pool().query("SELECT pg_sleep(0.2)").execute()),
            target.timed("warming", () -> target.pool().query("SELECT pg_sleep(0.2)").execute())));
        assertEquals(2, target.open());
        proxy.freeze(proxy.connections() - 1);
        proxy.freeze(proxy.connections() - 2);
        // A statement on a frozen connection stalls; the next starts from its failure, before the reset lands.
        io.vertx.core.Promise<Throwable> next = io.vertx.core.Promise.promise();
        Throwable first = SyncSetup.await(target.timed("reading one", () -> target.pool().query("SELECT 1").execute())
            .transform(ar -> {
              target.timed("reading two", () -> target.pool().query("SELECT 2").execute())
                  .onComplete(ar2 -> next.complete(ar2.cause()));
              return Future.succeededFuture(ar.cause());
            }));
        assertInstanceOf(DatabaseStalled.class, first, String.valueOf(first));
        Throwable second = SyncSetup.await(next.future());
        assertInstanceOf(DatabaseStalled.class, second, String.valueOf(second));
        assertEquals(first.getMessage(), second.getMessage());
        assertTrue(second.getMessage().contains(" while reading one "), second.getMessage());
      } finally {
        proxy.thaw();
        SyncSetup.await(target.close());
        SyncSetup.await(vertx.close());
      }
    }
  }

  private static List<List<String>> keys(int from, int to) {
    List<List<String>> keys = new ArrayList<>();
    for (int i = from; i <= to; i++) keys.add(List.of(String.valueOf(i)));
    return keys;
  }
}
