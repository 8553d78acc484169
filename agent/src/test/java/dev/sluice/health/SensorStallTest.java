package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.HealthConfig;
import dev.sluice.config.SensorSpec;
import dev.sluice.db.Await;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The health sensors read a database whose open connections go dead without a word (a partition, a
 * firewall that lost its state: nothing is reset, no error comes), while new connections work; they
 * reach it through a {@link FreezingProxy}.
 *
 * <p>Before, the probe's query waited for ever on its dead session: its reading went stale and the
 * decision failed closed, for good (a poll still in flight is never polled again), so a job stayed held
 * after the database answered again; the breaker heard nothing, and the monitor's stop waited for ever on
 * the session's close. Now a poll with no answer for twice {@code health.timeoutMs} fails saying so (the
 * database unhealthy, its breaker told), its session is reset, the next poll reads on a fresh one and the
 * decision lets the job go again; the monitor stops at once with its sessions still dead.
 */
class SensorStallTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aProbeWhoseSessionWentDeadReadsFailedThenReadsAgainOnAFreshOne() throws Exception {
    Vertx vertx = Vertx.vertx();
    String db = pg.createDatabase("sensor_stall");
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      DatabaseConfig direct = pg.database(db);
      DatabaseConfig via = new DatabaseConfig("127.0.0.1", proxy.port(), db, direct.user(), null, null, direct.tls(), 1);
      // Polled every 200 ms, the server's cap 500 ms: a poll with no answer for 1 s is a silent database.
      HealthConfig cfg = new HealthConfig(List.of(new SensorSpec(SensorSpec.Kind.PROBE, "source", 1000, Duration.ofMillis(200), "SELECT 1")),
          Duration.ofMillis(500), Duration.ofMillis(300), Duration.ofMillis(500));
      HealthMonitor health = new HealthMonitor(vertx, cfg, via, via, System::nanoTime);
      List<Throwable> heard = new CopyOnWriteArrayList<>();
      health.listen((database, error) -> {
        if (error != null) heard.add(error);
      });
      health.start();
      try {
        Eventually.until(Duration.ofSeconds(10), "the sensors healthy", () -> !health.decision().throttled());
        int opened = proxy.connections();
        proxy.freezeOpen();
        long frozenAt = System.nanoTime();
        String error = Eventually.value(Duration.ofSeconds(5), "the probe's failure", () -> probe(health).getString("error"));
        double found = (System.nanoTime() - frozenAt) / 1e9;
        assertTrue(error.startsWith("the source stalled: no answer for ") && error.endsWith(
            " while reading the probe latency (health.timeoutMs 500, twice that); the sensor's session was reset"), error);
        assertTrue(found < 4, "found " + found + " s after the freeze");
        assertTrue(heard.stream().anyMatch(e -> e instanceof DatabaseStalled), "the breaker told: " + heard);
        Eventually.until(Duration.ofSeconds(5), "healthy again on a fresh session", () -> !health.decision().throttled()
            && probe(health).getString("error") == null);
        assertTrue(proxy.connections() > opened, "a fresh session: " + proxy.connections() + " after " + opened);

        // Its sessions dead again, a poll in flight on each: the stop does not wait on them.
        proxy.freezeOpen();
        Eventually.pause(300);
        long stopAt = System.nanoTime();
        Await.result(health.stop(), 10, TimeUnit.SECONDS);
        double stopped = (System.nanoTime() - stopAt) / 1e9;
        assertTrue(stopped < 4, "stopped in " + stopped + " s");
      } finally {
        proxy.thaw();
        Await.result(health.stop(), 1, TimeUnit.MINUTES);
        Await.result(vertx.close(), 1, TimeUnit.MINUTES);
      }
    }
  }

  private static JsonObject probe(HealthMonitor health) {
    return health.snapshot().getJsonObject(0);
  }
}
