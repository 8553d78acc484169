package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import dev.sluice.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's WebSocket during a live, paced migration: a snapshot at least once a second,
 * state changes pushed as they happen, commands only with the right token, foreign origins refused.
 */
class DashboardSocketTest {
  private static final String TOKEN = "ws-test-token-0123456789";
  private final TestPg pg = TestPg.get();
  private Agent agent;
  private String ws;

  @BeforeEach
  void start() {
    String src = pg.createDatabase("wsrc");
    String tgt = pg.createDatabase("wtgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 30000) g");
    agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 2000}, "batch": {"rows": 500}, "pace": {"rowsPerSecond": 4000},
                   "concurrency": {"max": 2}}]}""".formatted(pg.url(src), pg.url(tgt), TOKEN));
    ws = "ws://127.0.0.1:" + agent.httpPort() + "/ws";
  }

  @AfterEach
  void stop() {
    Await.result(agent.stop(), 1, TimeUnit.MINUTES);
  }

  @Test
  void snapshotsEverySecondAndStateChangesPushed() {
    try (WsClient c = WsClient.connect(ws)) {
      JsonObject hello = c.await(m -> "hello".equals(m.getString("type")), 5, "hello").json();
      assertTrue(hello.getJsonObject("control").getBoolean("enabled"));
      List<Long> times = new ArrayList<>();
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3500);
      while (System.nanoTime() < end) {
        times.add(c.await(m -> "snapshot".equals(m.getString("type")), 2.5, "snapshot within 2.5 s").nanos());
      }
      // A 1 s cadence, with a loaded machine's margin on each gap (a GC pause, an event loop busy with the copy).
      assertTrue(times.size() >= 3, "at least 3 snapshots in 3.5 s, got " + times.size());
      for (int i = 1; i < times.size(); i++) {
        long gapMs = (times.get(i) - times.get(i - 1)) / 1_000_000;
        assertTrue(gapMs <= 2000, "gap between snapshots " + gapMs + " ms");
      }

      c.send(new JsonObject().put("type", "command").put("id", 1).put("action", "pause").put("job", "items"));
      assertEquals(401, c.await(m -> "result".equals(m.getString("type")), 5, "result").json().getInteger("status"));
      c.send(new JsonObject().put("type", "command").put("id", 2).put("token", "wrong-token-wrong-token").put("action", "pause")
          .put("job", "items"));
      assertEquals(401, c.await(m -> "result".equals(m.getString("type")), 5, "result").json().getInteger("status"));
      c.sendRaw("{not json");
      assertEquals(400, c.await(m -> "result".equals(m.getString("type")), 5, "result").json().getInteger("status"));

      c.send(new JsonObject().put("type", "command").put("id", 3).put("token", TOKEN).put("action", "pause").put("job", "items")
          .put("reason", "busy hour"));
      JsonObject r = c.await(m -> "result".equals(m.getString("type")), 5, "pause result").json();
      assertTrue(r.getBoolean("ok"), r.encode());
      long sent = System.nanoTime();
      WsClient.Message paused = c.await(m -> "snapshot".equals(m.getString("type")) && job(m).getBoolean("paused", false), 3,
          "a snapshot showing the pause");
      assertTrue((paused.nanos() - sent) / 1_000_000 < 2500, "pause pushed promptly");
      assertEquals("busy hour", job(paused.json()).getString("pauseReason"));
      boolean audited = auditedPause(paused.json());
      if (!audited) c.await(DashboardSocketTest::auditedPause, 3, "the audit event with the client address");
      c.await(m -> "snapshot".equals(m.getString("type")) && "paused".equals(job(m).getJsonObject("live", new JsonObject())
          .getJsonObject("throttle", new JsonObject()).getString("code")), 3, "the throttle panel saying paused");

      c.send(new JsonObject().put("type", "command").put("id", 4).put("token", TOKEN).put("action", "resume").put("job", "items"));
      c.await(m -> "snapshot".equals(m.getString("type")) && !job(m).getBoolean("paused", true), 3, "a snapshot showing the resume");
      c.await(m -> "snapshot".equals(m.getString("type")) && job(m).getJsonObject("heatmap").getString("cells").contains("v"), 10,
          "a segment turning verified");
      c.send(new JsonObject().put("type", "command").put("id", 5).put("token", TOKEN).put("action", "abort").put("job", "items"));
      JsonObject ab = c.await(m -> "result".equals(m.getString("type")), 5, "abort result").json();
      assertEquals(200, ab.getInteger("status"), ab.encode());
      c.await(m -> "snapshot".equals(m.getString("type")) && "aborted".equals(job(m).getString("state")), 5,
          "a snapshot showing the job aborted");
      c.send(new JsonObject().put("type", "command").put("id", 6).put("token", TOKEN).put("action", "rollback").put("job", "items"));
      JsonObject rb = c.await(m -> "result".equals(m.getString("type")), 5, "rollback result").json();
      assertTrue(rb.getBoolean("ok"), rb.encode());
      c.await(m -> "snapshot".equals(m.getString("type")) && job(m).getString("state", "").startsWith("roll"), 10,
          "a snapshot showing the rollback");
    }
  }

  @Test
  void foreignOriginRefusedOwnOriginAccepted() {
    Throwable t = assertThrows(Throwable.class, () -> WsClient.connect(ws, "http://evil.example"));
    assertTrue(String.valueOf(t.getMessage()).contains("403") || t.getCause() != null, String.valueOf(t));
    try (WsClient c = WsClient.connect(ws, "http://127.0.0.1:" + agent.httpPort())) {
      assertFalse(c.await(m -> "hello".equals(m.getString("type")), 5, "hello").json().isEmpty());
    }
  }

  private static boolean auditedPause(JsonObject m) {
    return "snapshot".equals(m.getString("type")) && events(m).stream().anyMatch(e -> ((JsonObject) e).getString("kind").equals("job.paused")
        && ((JsonObject) e).getString("message").contains("dashboard from 127.0.0.1"));
  }

  private static JsonObject job(JsonObject snapshot) {
    JsonArray jobs = snapshot.getJsonArray("jobs", new JsonArray());
    return jobs.isEmpty() ? new JsonObject() : jobs.getJsonObject(0);
  }

  private static JsonArray events(JsonObject snapshot) {
    return snapshot.getJsonArray("events", new JsonArray());
  }
}
