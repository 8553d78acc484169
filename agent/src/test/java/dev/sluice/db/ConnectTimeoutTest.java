package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A host that takes the TCP connection and then says nothing (frozen, overloaded, a proxy or firewall
 * holding the connection): opening a connection fails within the connect timeout, saying so. Before,
 * {@code validate}, an agent's start and {@code status} waited on it for their callers' own limit (ten
 * minutes) and then said only "timed out after 10 MINUTES". A connection that does come later is closed.
 */
class ConnectTimeoutTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aHostThatNeverAnswersTheLoginFailsWithinTheTimeout() throws Exception {
    String db = pg.createDatabase("ct");
    Vertx vertx = Vertx.vertx();
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      DatabaseConfig config = ConfigLoader.parse("""
          {"source": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
           "jobs": [{"name": "t", "source": {"table": "t", "key": ["id"]}, "target": {"table": "t"}}]}""".formatted(proxy.port(), db, pg.url(db))).source();
      ConnectionSettings settings = Databases.settings(config, "sluice-connect-test");
      proxy.freeze();
      long t0 = System.nanoTime();
      Future<PgConnection> f = Databases.connect(vertx, settings, Duration.ofMillis(1500));
      Throwable e = Await.result(f.map(c -> (Throwable) null).otherwise(x -> x), 1, TimeUnit.MINUTES);
      double took = (System.nanoTime() - t0) / 1e9;
      assertTrue(e != null && e.getMessage().startsWith("no answer from postgresql://postgres@127.0.0.1:" + proxy.port() + "/" + db
          + " within 1.5 s while connecting (TCP, TLS and the login): the host is unreachable or frozen"), String.valueOf(e));
      assertTrue(took >= 1.4 && took < 10, "failed after " + took + " s");
      // Let the login through: the connection that now comes (counted by the server's statistics, read from
      // another database so the test's own sessions do not count) is closed, not left open.
      String sessions = "SELECT sessions FROM pg_stat_database WHERE datname = '" + db + "'";
      long before = pg.scalar("postgres", sessions);
      proxy.thaw();
      Eventually.until(Duration.ofSeconds(20), "the late connection made, then closed", () -> {
        pg.exec("postgres", "SELECT pg_stat_clear_snapshot()");
        return pg.scalar("postgres", sessions) > before && pg.scalar("postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice-connect-test'") == 0;
      });
      // And with an answer in time, it connects.
      PgConnection c = Await.result(Databases.connect(vertx, settings, Duration.ofMillis(1500)), 1, TimeUnit.MINUTES);
      assertEquals(1, Await.result(c.query("SELECT 1").execute()).iterator().next().getInteger(0));
      Await.result(c.close());
    } finally {
      Await.result(vertx.close());
    }
  }
}
