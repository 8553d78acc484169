package dev.sluice.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A live {@code /metrics} after a real migration: valid Prometheus text (checked by a strict parser
 * and, when installed, by {@code promtool check metrics}; with {@code CI=true} promtool must be
 * there), with the job's figures right and Vert.x's own HTTP metrics present.
 */
class MetricsExpositionTest {
  private final TestPg pg = TestPg.get();

  @Test
  void liveExpositionIsValidAndRight() throws Exception {
    String src = pg.createDatabase("msrc");
    String tgt = pg.createDatabase("mtgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "0123456789abcdef0123"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 5000}, "batch": {"rows": 1000, "minRows": 1000, "maxRows": 1000}, "pace": {"rowsPerSecond": 1000000}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    try {
      Map<String, JobState> states = Await.result(agent.untilDone(), 1, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
      String base = "http://127.0.0.1:" + agent.httpPort();
      assertEquals(200, Http.get(base + "/api/jobs").status());
      Map<String, Double> m = null;
      String text = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < deadline) {
        Http.Response r = Http.get(base + "/metrics");
        assertEquals(200, r.status());
        text = r.body();
        m = Exposition.parse(text);
        if (m.getOrDefault("sluice_segments{sluice_job=\"items\",state=\"verified\"}", 0.0) == 4.0) break;
        Thread.sleep(200);
      }
      Path out = Path.of("target", "metrics.prom");
      Files.writeString(out, text);
      assertEquals(4.0, m.get("sluice_segments{sluice_job=\"items\",state=\"verified\"}"), "segments by state, from the ledger");
      assertEquals(20000.0, m.get("sluice_rows_copied_total{sluice_job=\"items\"}"));
      assertEquals(20000.0, m.get("sluice_job_rows_done{sluice_job=\"items\"}"));
      assertEquals(1000000.0, m.get("sluice_rate_limit_rows_per_second{sluice_job=\"items\"}"));
      assertEquals(0.0, m.get("sluice_eta_seconds{sluice_job=\"items\"}"), "nothing left");
      assertEquals(0.0, m.get("sluice_throttled{reason=\"none\",sluice_job=\"items\"}"));
      assertEquals(20.0, m.get("sluice_batch_latency_seconds_count{sluice_job=\"items\"}"), "one latency sample a batch");
      assertTrue(m.containsKey("sluice_batch_latency_seconds_bucket{sluice_job=\"items\",le=\"0.25\"}"), "latency histogram buckets");
      assertTrue(m.containsKey("sluice_errors_total{class=\"transient\",sluice_job=\"items\"}"));
      assertTrue(m.keySet().stream().anyMatch(k -> k.startsWith("vertx_http_server_requests_total")), "Vert.x HTTP metrics on");
      assertTrue(m.keySet().stream().anyMatch(k -> k.startsWith("sluice_sensor_age_seconds{sensor=\"probe@source\",sluice_job=\"items\"")),
          "the probe sensor with its age: " + m.keySet().stream().filter(k -> k.startsWith("sluice_sensor")).toList());
      promtool(out);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  static void promtool(Path file) throws Exception {
    boolean installed = new File("/usr/bin/promtool").canExecute() || new File("/usr/local/bin/promtool").canExecute();
    if (!installed) {
      if ("true".equals(System.getenv("CI"))) fail("promtool is not installed (apt-get install prometheus); CI requires the check");
      return;
    }
    Process p = new ProcessBuilder("promtool", "check", "metrics").redirectInput(file.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool finished");
    assertEquals(0, p.exitValue(), "promtool check metrics: " + out);
  }
}
