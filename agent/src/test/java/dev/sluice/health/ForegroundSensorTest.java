package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Against a real PostgreSQL: the foreground sensor sees another session's transaction, never Sluice's own. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
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

  /**
   * The highest foreground reading seen, read every 50 ms while {@code sampling} holds; {@code also}
   * runs at each reading (on a worker: it may block).
   */
  private static Future<Double> highest(Vertx vertx, HealthMonitor monitor, BooleanSupplier sampling, Runnable also, double seen) {
    if (!sampling.getAsBoolean()) return Future.succeededFuture(seen);
    double now = Math.max(seen, value(monitor.snapshot(), "foreground"));
    return Async.blocking(vertx, also).compose(v -> Async.pause(vertx, 50))
        .compose(v -> highest(vertx, monitor, sampling, also, now));
  }

  private static Future<Boolean> reading(HealthMonitor monitor, String... sensors) {
    for (String s : sensors) if (Double.isNaN(value(monitor.snapshot(), s))) return Future.succeededFuture(false);
    return Future.succeededFuture(true);
  }

  private String jdbc(String db) {
    String url = pg.url(db); // postgresql://postgres@host:port/db
    // The name goes in the start-up packet: otherwise the driver sets it by a first statement, and the
    // session is an unnamed one (foreground) until then.
    return "jdbc:postgresql://" + url.substring(url.indexOf('@') + 1) + "?user=postgres&assumeMinServerVersion=9.0";
  }

  @Test
  void seesAnotherSessionsTransactionButNotSluicesOwn(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("fg");
    SluiceConfig cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"intervalMs": 50, "quietMs": 2000}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items_copy"}}]}
        """.formatted(pg.url(db), pg.url(db)));
    HealthMonitor monitor = new HealthMonitor(vertx, cfg.health(), cfg.source(), cfg.target(), System::nanoTime);
    monitor.start();
    Throttler.Decision[] dropped = {null};
    // Source and target share a server here: the probe times a commit on the target.
    Async.until(vertx, Duration.ofSeconds(10), "both foreground readings", () -> reading(monitor, "foreground", "foregroundProbe"))
        .compose(v -> {
          CompletableFuture<Void> own = sleeper(db, "sluice-source", 1.0);
          long until = System.nanoTime() + 800_000_000L;
          return highest(vertx, monitor, () -> System.nanoTime() < until, () -> {}, 0)
              .compose(seen -> Future.fromCompletionStage(own).map(seen));
        })
        .compose(seen -> {
          ctx.verify(() -> {
            assertEquals(0.0, seen, "Sluice's own session is not foreground");
            assertEquals(1.0, monitor.decision().rateFactor(), "no foreground: full speed");
          });
          CompletableFuture<Void> user = sleeper(db, "orders-app", 1.0);
          return Async.until(vertx, Duration.ofSeconds(5), "the user's transaction seen",
                  () -> Future.succeededFuture(value(monitor.snapshot(), "foreground") >= 1))
              .compose(v -> Async.until(vertx, Duration.ofSeconds(5), "the rate to drop", () -> {
                Throttler.Decision d = monitor.decision();
                if (d.rateFactor() <= 0.1) dropped[0] = d;
                return Future.succeededFuture(dropped[0] != null);
              }))
              .compose(v -> Future.fromCompletionStage(user));
        })
        .eventually(monitor::stop)
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          Throttler.Decision d = dropped[0];
          assertTrue(d.headroom().startsWith("foreground active (up to 1 other sessions in a transaction"), d.headroom());
          ctx.completeNow();
        })));
  }

  /**
   * Sluice's role without pg_read_all_stats sees other roles' sessions with their state (and backend
   * type) hidden: a user's session then counts as busy, as documented, while another Sluice agent's
   * session, whatever its role, never does (its application_name is visible to every role).
   */
  @Test
  void anotherRolesUserCountsAndAnotherAgentNeverDoes(Vertx vertx, VertxTestContext ctx) {
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
    HealthMonitor monitor = new HealthMonitor(vertx, cfg.health(), cfg.source(), cfg.target(), System::nanoTime);
    monitor.start();
    boolean[] there = {false};
    Async.until(vertx, Duration.ofSeconds(10), "a foreground reading", () -> reading(monitor, "foreground"))
        .compose(v -> {
          CompletableFuture<Void> agent = sleeper(db, "fg_other", "sluice-source", 1.5);
          // Sampled for as long as the other agent's statement runs.
          return highest(vertx, monitor, () -> !agent.isDone(), () -> there[0] |= pg.scalar(db,
                  "SELECT count(*) FROM pg_stat_activity WHERE usename = 'fg_other' AND state = 'active'") > 0, 0)
              .compose(seen -> Future.fromCompletionStage(agent).map(seen));
        })
        .compose(seen -> Async.blocking(vertx, () -> {
          assertTrue(there[0], "the other agent's session ran while the sensor was read");
          assertEquals(0.0, seen, () -> "another agent's session, of another role, is not foreground; sessions that count: "
              + pg.strings(db, "SELECT pid || ' ' || usename || '@' || coalesce(datname, '-') || ' ' || coalesce(application_name, '') "
                  + "|| ' ' || coalesce(state, '-') || ' ' || backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                  + "AND usesysid IS NOT NULL AND datid IS NOT NULL AND coalesce(application_name, '') NOT LIKE 'sluice-%'"));
        }))
        .compose(v -> {
          CompletableFuture<Void> user = sleeper(db, "fg_other", "orders-app", 3.0);
          return Async.until(vertx, Duration.ofSeconds(5), "another role's user seen",
                  () -> Future.succeededFuture(value(monitor.snapshot(), "foreground") >= 1))
              .compose(x -> Future.fromCompletionStage(user));
        })
        .eventually(monitor::stop)
        .onComplete(ctx.succeedingThenComplete());
  }
}
