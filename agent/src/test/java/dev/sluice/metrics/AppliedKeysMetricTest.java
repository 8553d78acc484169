package dev.sluice.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import dev.sluice.testing.WsClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The change applier's throughput is on {@code /metrics} and in the live view, in trigger mode too (the suite's
 * default): {@code sluice_changes_applied_total} and {@code sluice_capture_applied_keys_per_second}, and the dashboard's
 * {@code live.backlog.keysApplied}/{@code keysAppliedPerSecond}. Before, only logical capture's WAL reader had a keys/s,
 * and nothing said how fast a job caught up.
 */
class AppliedKeysMetricTest {
  private final TestPg pg = TestPg.get();

  @Test
  void theAppliersKeysAndKeysPerSecondAreExported() throws Exception {
    String src = pg.createDatabase("aksrc");
    String tgt = pg.createDatabase("aktgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 5000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0}, "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 2500}, "capture": {"pollMs": 100, "batchRows": 200}}]}""".formatted(pg.url(src), pg.url(tgt)));
    try {
      String base = "http://127.0.0.1:" + agent.httpPort();
      Eventually.until(Duration.ofSeconds(60), "the job in sync",
          () -> "in_sync".equals(pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'")));
      double before = metrics(base).getOrDefault("sluice_changes_applied_total{sluice_job=\"items\"}", -1.0);
      assertEquals(0.0, before, "nothing applied before the writes");

      pg.exec(src, "UPDATE items SET qty = 1 WHERE id <= 3000");
      double[] fastest = {0};
      Eventually.until(Duration.ofSeconds(60), "3,000 keys applied, seen on /metrics", () -> {
        Map<String, Double> m = metrics(base);
        double rate = m.getOrDefault("sluice_capture_applied_keys_per_second{sluice_job=\"items\"}", Double.NaN);
        if (!Double.isNaN(rate)) fastest[0] = Math.max(fastest[0], rate);
        return m.getOrDefault("sluice_changes_applied_total{sluice_job=\"items\"}", 0.0) >= 3000;
      });
      // The rate is taken over whole seconds: after the last key, one more second gives the drain's last window.
      Eventually.until(Duration.ofSeconds(10), "a keys/s over a window with applied keys", () -> {
        double rate = metrics(base).getOrDefault("sluice_capture_applied_keys_per_second{sluice_job=\"items\"}", Double.NaN);
        if (!Double.isNaN(rate)) fastest[0] = Math.max(fastest[0], rate);
        return fastest[0] > 0;
      });
      assertTrue(fastest[0] > 0 && fastest[0] <= 3000.0, "applied keys/s: " + fastest[0]);

      JsonObject capture = new JsonObject(Http.get(base + "/api/jobs").body()).getJsonArray("jobs").getJsonObject(0).getJsonObject("capture");
      assertTrue(capture.getLong("keysApplied") >= 3000, capture.encode());
      // What the dashboard draws its "applied" line from: the live view's snapshot over the WebSocket.
      try (WsClient ws = WsClient.connect("ws://127.0.0.1:" + agent.httpPort() + "/ws")) {
        // (the first one sent may be the latest tick's, from before the drain ended)
        JsonObject backlog = ws.await(m -> "snapshot".equals(m.getString("type")) && backlog(m).getLong("keysApplied", 0L) >= 3000, 5,
            "a snapshot with the 3,000 keys applied").json();
        assertTrue(backlog(backlog).containsKey("keysAppliedPerSecond"), backlog.encode());
      }
      assertEquals(3000, pg.scalar(tgt, "SELECT count(*) FROM items WHERE qty = 1"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  private static JsonObject backlog(JsonObject snapshot) {
    JsonObject live = snapshot.getJsonArray("jobs").getJsonObject(0).getJsonObject("live", new JsonObject());
    return live.getJsonObject("backlog", new JsonObject());
  }

  private static Map<String, Double> metrics(String base) {
    try {
      return Exposition.parse(Http.get(base + "/metrics").body());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
