package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Against a real PostgreSQL: the foreground sensor sees another session's transaction, never Sluice's own. */
class ForegroundSensorTest {
  private final TestPg pg = TestPg.get();

  private static double value(JsonArray snapshot, String sensor) {
    for (int i = 0; i < snapshot.size(); i++) {
      JsonObject j = snapshot.getJsonObject(i);
      if (j.getString("sensor").equals(sensor) && j.getValue("value") instanceof Number n) return n.doubleValue();
    }
    return Double.NaN;
  }

  /** Runs {@code pg_sleep(seconds)} in a session named {@code application}, in the background. */
  private CompletableFuture<Void> sleeper(String db, String application, double seconds) {
    return sleeper(db, "postgres", application, seconds);
  }

  private CompletableFuture<Void> sleeper(String db, String role, String application, double seconds) {
    return CompletableFuture.runAsync(() -> {
      try (Connection c = DriverManager.getConnection(jdbc(db).replace("user=postgres", "user=" + role) + "&ApplicationName=" + application);
          Statement s = c.createStatement()) {
        s.execute("SELECT pg_sleep(" + seconds + ")");
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private String jdbc(String db) {
    String url = pg.url(db); // postgresql://postgres@host:port/db
    // The name goes in the start-up packet: otherwise the driver sets it by a first statement, and the
    // session is an unnamed one (foreground) until then.
    return "jdbc:postgresql://" + url.substring(url.indexOf('@') + 1) + "?user=postgres&assumeMinServerVersion=9.0";
  }

  @Test
  void seesAnotherSessionsTransactionButNotSluicesOwn() throws Exception {
    String db = pg.createDatabase("fg");
    SluiceConfig cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"intervalMs": 50, "quietMs": 2000}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items_copy"}}]}
        """.formatted(pg.url(db), pg.url(db)));
    Vertx vertx = Vertx.vertx();
    HealthMonitor monitor = new HealthMonitor(vertx, cfg.health(), cfg.source(), cfg.target(), System::nanoTime);
    monitor.start();
    try {
      // Source and target share a server here: the probe times a commit on the target.
      Eventually.until(Duration.ofSeconds(10), "both foreground readings",
          () -> !Double.isNaN(value(monitor.snapshot(), "foreground")) && !Double.isNaN(value(monitor.snapshot(), "foregroundProbe")));
      CompletableFuture<Void> own = sleeper(db, "sluice-source", 1.0);
      double seen = 0;
      long until = System.nanoTime() + 800_000_000L;
      while (System.nanoTime() < until) {
        seen = Math.max(seen, value(monitor.snapshot(), "foreground"));
        Eventually.pause(50);
      }
      own.get(10, TimeUnit.SECONDS);
      assertEquals(0.0, seen, "Sluice's own session is not foreground");
      assertEquals(1.0, monitor.decision().rateFactor(), "no foreground: full speed");

      CompletableFuture<Void> user = sleeper(db, "orders-app", 1.0);
      Eventually.until(Duration.ofSeconds(5), "the user's transaction seen", () -> value(monitor.snapshot(), "foreground") >= 1);
      Throttler.Decision d = Eventually.value(Duration.ofSeconds(5), "the rate to drop",
          () -> monitor.decision().rateFactor() <= 0.1 ? monitor.decision() : null);
      user.get(10, TimeUnit.SECONDS);
      assertTrue(d.headroom().startsWith("foreground active (up to 1 other sessions in a transaction"), d.headroom());
    } finally {
      Await.result(monitor.stop(), 10, TimeUnit.SECONDS);
      Await.result(vertx.close(), 10, TimeUnit.SECONDS);
    }
  }

  /**
   * Sluice's role without pg_read_all_stats sees other roles' sessions with their state (and backend
   * type) hidden: a user's session then counts as busy, as documented, while another Sluice agent's
   * session, whatever its role, never does (its application_name is visible to every role).
   */
  @Test
  void anotherRolesUserCountsAndAnotherAgentNeverDoes() throws Exception {
    String db = pg.createDatabase("fgroles");
    pg.exec(db, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice_fg_plain') THEN "
        + "CREATE ROLE sluice_fg_plain LOGIN; END IF; "
        + "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fg_other') THEN CREATE ROLE fg_other LOGIN; END IF; END $$");
    String url = pg.url(db).replace("postgres@", "sluice_fg_plain@");
    SluiceConfig cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"intervalMs": 50, "quietMs": 2000}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items_copy"}}]}
        """.formatted(url, url));
    Vertx vertx = Vertx.vertx();
    HealthMonitor monitor = new HealthMonitor(vertx, cfg.health(), cfg.source(), cfg.target(), System::nanoTime);
    monitor.start();
    try {
      Eventually.until(Duration.ofSeconds(10), "a foreground reading", () -> !Double.isNaN(value(monitor.snapshot(), "foreground")));
      CompletableFuture<Void> agent = sleeper(db, "fg_other", "sluice-source", 1.5);
      double seen = 0;
      boolean there = false;
      while (!agent.isDone()) { // sampled for as long as the other agent's statement runs
        seen = Math.max(seen, value(monitor.snapshot(), "foreground"));
        there |= pg.scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'fg_other' AND state = 'active'") > 0;
        Eventually.pause(50);
      }
      agent.get(10, TimeUnit.SECONDS);
      assertTrue(there, "the other agent's session ran while the sensor was read");
      assertEquals(0.0, seen, () -> "another agent's session, of another role, is not foreground; sessions that count: "
          + pg.strings(db, "SELECT pid || ' ' || usename || '@' || coalesce(datname, '-') || ' ' || coalesce(application_name, '') "
              + "|| ' ' || coalesce(state, '-') || ' ' || backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
              + "AND usesysid IS NOT NULL AND datid IS NOT NULL AND coalesce(application_name, '') NOT LIKE 'sluice-%'"));
      CompletableFuture<Void> user = sleeper(db, "fg_other", "orders-app", 3.0);
      Eventually.until(Duration.ofSeconds(5), "another role's user seen", () -> value(monitor.snapshot(), "foreground") >= 1);
      user.get(10, TimeUnit.SECONDS);
    } finally {
      Await.result(monitor.stop(), 10, TimeUnit.SECONDS);
      Await.result(vertx.close(), 10, TimeUnit.SECONDS);
    }
  }
}
