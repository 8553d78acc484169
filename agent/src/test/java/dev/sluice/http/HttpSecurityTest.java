package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.sluice.agent.Agent;
import dev.sluice.testing.LogCapture;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import dev.sluice.testing.WsClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the HTTP face never gives away and never accepts: the database password appears in no API
 * response, page, metric, WebSocket message, stored config version or log line; control calls
 * without the token or with a wrong one get 401, malformed JSON 400, oversized bodies 413; no CORS
 * headers unless configured; pages carry a strict Content-Security-Policy.
 */
class HttpSecurityTest {
  private static final String PASSWORD = "Sup3rSecretPw-4711";
  private static final String TOKEN = "security-token-0123456789";
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final TestPg pg = TestPg.get();

  @Test
  void noPasswordAnywhereAndLimitsHold() throws Exception {
    LogCapture logs = LogCapture.root();
    String src = pg.createDatabase("ssrc");
    String tgt = pg.createDatabase("stgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'x' FROM generate_series(1, 3000) g");
    // The test server trusts loopback, so the password is carried but never needed: it must still never show.
    String srcUrl = pg.url(src).replace("postgres@", "postgres:" + PASSWORD + "@");
    String tgtUrl = pg.url(tgt) + "?password=" + PASSWORD;
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true}, "segment": {"rows": 1000}}]}"""
        .formatted(srcUrl, tgtUrl, TOKEN));
    try {
      Await.result(agent.untilDone(), 1, TimeUnit.MINUTES);
      String base = "http://127.0.0.1:" + agent.httpPort();
      List<String> seen = new ArrayList<>();
      for (String path : List.of("/api/jobs", "/api/agents", "/api/config", "/api/jobs/items/events?after=0",
          "/api/jobs/items/segments/0", "/metrics", "/", "/js/app.js", "/health/ready")) {
        HttpResponse<String> r = get(base + path, null);
        assertTrue(r.statusCode() < 400, path + " -> " + r.statusCode());
        seen.add(path + ": " + r.body());
      }
      try (WsClient ws = WsClient.connect("ws://127.0.0.1:" + agent.httpPort() + "/ws")) {
        seen.add("ws hello: " + ws.await(m -> "hello".equals(m.getString("type")), 5, "hello").json().encode());
        seen.add("ws snapshot: " + ws.await(m -> "snapshot".equals(m.getString("type")), 5, "snapshot").json().encode());
      }
      seen.add("config_versions: " + String.join(",", pg.strings(tgt, "SELECT content::text FROM sluice.config_versions")));
      seen.add("events: " + String.join(",", pg.strings(tgt, "SELECT message || coalesce(details::text, '') FROM sluice.events")));
      for (ILoggingEvent e : logs.events()) seen.add("log: " + e.getFormattedMessage());
      for (String s : seen) {
        assertFalse(s.contains(PASSWORD), "password leaked in " + s.substring(0, Math.min(200, s.length())));
        assertFalse(s.contains(TOKEN), "token leaked in " + s.substring(0, Math.min(200, s.length())));
      }
      assertTrue(seen.stream().anyMatch(s -> s.startsWith("log: ")), "logs were captured");

      HttpResponse<String> big = post(base + "/api/jobs/items/pause", TOKEN, "{\"reason\": \"" + "x".repeat(70_000) + "\"}");
      assertEquals(413, big.statusCode(), "body over http.maxBodyBytes");
      assertEquals(401, post(base + "/api/jobs/items/pause", null, "{}").statusCode(), "no token");
      assertEquals(401, post(base + "/api/jobs/items/pause", "wrong-token-wrong-token", "{}").statusCode(), "wrong token");
      assertEquals(401, post(base + "/api/jobs/items/pace", TOKEN.substring(1), "{\"rowsPerSecond\": 5}").statusCode(), "almost the token");
      assertEquals(400, post(base + "/api/jobs/items/pace", TOKEN, "{\"rowsPerSecond\": ").statusCode(), "malformed JSON");
      assertEquals(400, post(base + "/api/jobs/items/pause", TOKEN, "[1, 2]").statusCode(), "not an object");
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE paused"), "nothing refused had an effect");
      HttpResponse<String> ok = post(base + "/api/jobs/items/pause", TOKEN, "{\"reason\": \"maintenance\"}");
      assertEquals(200, ok.statusCode(), ok.body());
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'control.pause' AND message LIKE '%127.0.0.1%'"),
          "the operator action is audited with the client address");

      HttpResponse<String> page = get(base + "/", "http://evil.example");
      assertNull(page.headers().firstValue("Access-Control-Allow-Origin").orElse(null), "no CORS unless configured");
      assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"));
      assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElse(""));
      assertEquals(404, get(base + "/api/nothing-here", null).statusCode());
    } finally {
      logs.close();
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  private static HttpResponse<String> get(String url, String origin) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
    if (origin != null) b.header("Origin", origin);
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String url, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
