package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload against a running agent: a live change is in force within two seconds and recorded as
 * a config version; an invalid file and an identity change are refused whole, with the running
 * config kept and the refusal in the audit trail and the status the dashboard shows; a new job starts.
 */
class ConfigReloadTest {
  private static final String TOKEN = "reload-token-0123456789";
  // The foreground control off: on a loaded machine it holds the pacer at a fraction of the configured
  // rate, and what this test reads is the configured rate in force.
  private static final String FOREGROUND_OFF = "\"foreground\": {\"enabled\": false}";
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private String config(String src, String tgt, String rate, String extraJob) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "health": {"foreground": {"enabled": false}}, "http": {"port": 0, "token": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 2000}, "batch": {"rows": 500}, "pace": {"rowsPerSecond": %s},
                   "concurrency": {"max": 2}}%s]}""".formatted(pg.url(src), pg.url(tgt), TOKEN, rate, extraJob);
  }

  @Test
  void liveChangeInvalidFileIdentityChangeAndNewJob() throws Exception {
    String src = pg.createDatabase("rsrc");
    String tgt = pg.createDatabase("rtgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 40000) g",
        "CREATE TABLE extras (id int PRIMARY KEY)", "INSERT INTO extras SELECT generate_series(1, 300)");
    Path file = dir.resolve("sluice.json");
    Files.writeString(file, config(src, tgt, "1000", ""));
    Agent agent = new Agent(ConfigLoader.load(file)).watching(file);
    Await.result(agent.start(), 2, TimeUnit.MINUTES);
    try {
      Migrator m = agent.migrators().get("items");
      assertEquals(1000.0, m.pacer().rate());

      Files.writeString(file, config(src, tgt, "3000", ""));
      long t0 = System.nanoTime();
      within(5, () -> Double.valueOf(3000.0).equals(m.pacer().rate()), "the new rate in force");
      System.out.printf("rate change in force after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
      within(5, () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.config_versions WHERE cause = 'reload'") == 1, "version recorded");
      String changes = pg.string(tgt, "SELECT changes::text FROM sluice.config_versions WHERE cause = 'reload'");
      assertTrue(changes.contains("jobs[items].pace.rowsPerSecond") && changes.contains("3000"), changes);
      String content = pg.string(tgt, "SELECT content::text FROM sluice.config_versions WHERE cause = 'reload'");
      assertFalse(content.contains(TOKEN), "the token is not stored");
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'config.applied' AND message LIKE '%rowsPerSecond: 1000 -> 3000%'"));
      assertEquals(1.0, metric(agent, "sluice_config_reloads_total{outcome=\"applied\"}"));
      assertEquals(0.0, metric(agent, "sluice_config_reloads_total{outcome=\"rejected\"}"));
      assertEquals(1.0, metric(agent, "sluice_config_last_reload_successful"));

      Files.writeString(file, config(src, tgt, "5000", "").replace("\"jobs\"", "\"jobz\": 1, \"jobs\""));
      within(5, () -> rejected(agent), "the invalid file rejected");
      assertTrue(agent.configStatus().getJsonObject("lastReload").getString("message").contains("jobz: unknown field"));
      assertEquals(3000.0, m.pacer().rate(), "running config kept");

      Files.writeString(file, "{\"source\": ");
      within(5, () -> agent.configStatus().getJsonObject("lastReload").getString("message").contains("invalid JSON"), "bad JSON rejected");
      assertEquals(3000.0, m.pacer().rate(), "running config kept");

      Files.writeString(file, config(src, tgt, "5000", "").replace("\"key\": [\"id\"]", "\"key\": [\"id\", \"name\"]"));
      within(5, () -> agent.configStatus().getJsonObject("lastReload").getString("message").contains("source.key changed"),
          "identity change refused");
      assertTrue(agent.configStatus().getJsonObject("lastReload").getString("message").contains("cannot change"));
      assertEquals(3000.0, m.pacer().rate(), "nothing of a refused file applies");
      within(5, () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'config.rejected'") == 3, "each refusal audited");
      assertEquals(3.0, metric(agent, "sluice_config_reloads_total{outcome=\"rejected\"}"), "each refusal counted");
      assertEquals(0.0, metric(agent, "sluice_config_last_reload_successful"));
      assertEquals(1.0, metric(agent, "sluice_config_reloads_total{outcome=\"applied\"}"));

      Files.writeString(file, config(src, tgt, "3000", """
          , {"name": "extras", "source": {"table": "public.extras", "key": ["id"]},
             "target": {"table": "public.extras", "create": true}}"""));
      within(10, () -> agent.migrators().containsKey("extras"), "the new job started");
      // With change capture on (the default) a job never finishes by itself; its rows arriving is the proof.
      // One query: as two, a plan recorded between them would pass before anything was copied.
      within(20, () -> pg.scalar(tgt, "SELECT (count(*) > 0 AND count(*) FILTER (WHERE state <> 'verified') = 0)::int "
          + "FROM sluice.segments WHERE job = 'extras'") == 1, "the new job's segments verified");
      assertEquals(300, pg.scalar(tgt, "SELECT count(*) FROM extras"));
      assertEquals(2.0, metric(agent, "sluice_config_reloads_total{outcome=\"applied\"}"));
      assertEquals(1.0, metric(agent, "sluice_config_last_reload_successful"), "a reload in force again");

      // Sensor thresholds reload live; adding a sensor needs a restart.
      String withExtras = config(src, tgt, "3000", """
          , {"name": "extras", "source": {"table": "public.extras", "key": ["id"]},
             "target": {"table": "public.extras", "create": true}}""");
      Files.writeString(file, withExtras.replace(FOREGROUND_OFF, FOREGROUND_OFF + ", \"probe\": {\"maxMs\": 250}"));
      within(5, () -> probeThreshold(agent) == 250.0, "the new probe threshold in force");
      // Exported in seconds, for every job.
      within(5, () -> metric(agent, "sluice_sensor_probe_threshold_seconds{database=\"source\",sluice_job=\"items\"}") == 0.25,
          "the new threshold exported in seconds");
      Files.writeString(file, withExtras.replace(FOREGROUND_OFF,
          FOREGROUND_OFF + ", \"probe\": {\"maxMs\": 250}, \"lockWaiters\": {\"max\": 3}"));
      within(5, () -> agent.configStatus().getJsonObject("lastReload").getString("message").contains("adding or removing a sensor"),
          "a new sensor refused");
      assertEquals(250.0, probeThreshold(agent), "the refused file changed nothing");
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  /** One series' value in the agent's scrape, NaN when absent. */
  private static double metric(Agent agent, String series) {
    for (String line : agent.metrics().scrape().split("\n")) {
      if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).strip());
    }
    return Double.NaN;
  }

  private static double probeThreshold(Agent agent) {
    JsonObject probe = agent.guards().health().snapshot().getJsonObject(0);
    return probe.getDouble("threshold");
  }

  private static boolean rejected(Agent agent) {
    JsonObject last = agent.configStatus().getJsonObject("lastReload");
    return last != null && !last.getBoolean("ok");
  }

  private static void within(double seconds, BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + ": not within " + seconds + " s");
      Thread.sleep(50);
    }
  }
}
