package dev.sluice.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A sensor whose query fails takes a fresh (failed) reading at every interval, so
 * {@code sluice_sensor_age_seconds} stays low; {@code sluice_sensor_last_success_age_seconds} grows until a
 * read succeeds again. The alert SluiceSensorStale is on the latter (deploy/prometheus), so it sees a
 * failing sensor, not only a hung one.
 */
class SensorSuccessAgeTest {
  private static final String AGE = "sluice_sensor_age_seconds{sensor=\"probe@source\",sluice_job=\"items\"}";
  private static final String SUCCESS_AGE = "sluice_sensor_last_success_age_seconds{sensor=\"probe@source\",sluice_job=\"items\"}";
  private final TestPg pg = TestPg.get();

  @Test
  void aFailingSensorsLastSuccessAgesWhileItsReadingsStayFresh() throws Exception {
    String src = pg.createDatabase("succage_src");
    String tgt = pg.createDatabase("succage_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g");
    // Division by zero while the table fail_now exists: the probe's query fails at every interval.
    String probe = "SELECT 1 / (CASE WHEN to_regclass('public.fail_now') IS NULL THEN 1 ELSE 0 END)";
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0},
         "health": {"intervalMs": 200, "graceMs": 800, "resumeAfterMs": 300, "probe": {"sql": "%s"}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 2000}, "pace": {"rowsPerSecond": 1000, "burstRows": 100}}]}""".formatted(pg.url(src), pg.url(tgt), probe));
    try {
      String metrics = "http://127.0.0.1:" + agent.httpPort() + "/metrics";
      Migrator m = agent.migrators().get("items");
      Eventually.until(Duration.ofSeconds(30), "a successful reading",
          () -> Exposition.parse(Http.get(metrics).body()).getOrDefault(SUCCESS_AGE, Double.NaN) < 1.0);

      pg.exec(src, "CREATE TABLE fail_now ()");
      String why = Eventually.value(Duration.ofSeconds(15), "the failing probe to hold the job",
          () -> m.waitingReason() != null && m.waitingReason().contains("failed:") ? m.waitingReason() : null);
      assertTrue(why.contains("division by zero"), why);
      // In one scrape: the failed readings are fresh, yet the last success is seconds old.
      Map<String, Double> seen = Eventually.value(Duration.ofSeconds(30), "a fresh failed reading and a last success 3 s old", () -> {
        Map<String, Double> s = Exposition.parse(Http.get(metrics).body());
        return s.get(AGE) < 1.0 && s.get(SUCCESS_AGE) >= 3.0 ? s : null;
      });
      assertTrue(seen.get(SUCCESS_AGE) > seen.get(AGE) + 2.0, seen.toString());

      pg.exec(src, "DROP TABLE fail_now");
      Eventually.until(Duration.ofSeconds(30), "a successful reading again",
          () -> Exposition.parse(Http.get(metrics).body()).get(SUCCESS_AGE) < 1.0);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
