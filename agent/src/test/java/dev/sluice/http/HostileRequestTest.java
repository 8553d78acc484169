package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.sluice.agent.Agent;
import dev.sluice.testing.LogCapture;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import dev.sluice.testing.WsClient;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Requests a client should never have sent, sent as raw bytes (an HTTP library would refuse to): each
 * gets a 400 or 404 with a short JSON error from the request guard, not a database error passed
 * through; a flood of them writes nothing to the log above DEBUG and no stack trace.
 */
class HostileRequestTest {
  private static final String TOKEN = "hostile-token-0123456789";
  private final TestPg pg = TestPg.get();

  /** A raw request line, the status it must get and a fragment of its JSON error. */
  record Case(String request, int status, String says) {}

  private static final String MALFORMED = "malformed request";
  private static final List<Case> CASES = List.of(
      new Case("GET /api/jobs/items%00/events", 400, MALFORMED),
      new Case("GET /api/jobs/items%00/segments/1", 400, MALFORMED),
      new Case("GET /%Hz", 400, MALFORMED),
      new Case("GET /api/jobs/%Hz/events", 400, MALFORMED),
      new Case("GET /api/jobs/items/rows/%Hz", 400, MALFORMED),
      new Case("GET /api/jobs/items/rows/1%00", 400, MALFORMED),
      new Case("GET /api/jobs/items/events?after=1%00", 400, MALFORMED),
      new Case("GET /api/jobs/items/events?after=%zz", 400, MALFORMED),
      new Case("GET /api/jobs/items%C3%28/events", 400, MALFORMED), // not UTF-8
      new Case("GET /api/jobs/items%0d%0aX-Injected:%201/events", 400, MALFORMED),
      new Case("GET /api/jobs/%", 400, MALFORMED),
      new Case("GET /api/jobs/Items'--/events", 404, "no such job"),
      new Case("GET /api/jobs/" + "a".repeat(41) + "/segments/1", 404, "no such job"),
      new Case("POST /api/jobs/items%00/pause", 400, MALFORMED),
      new Case("POST /api/jobs/x%2Fy/pause", 404, "no such job"));

  @Test
  void badRequestsAreRefusedBeforeAnyQueryAndNeverFloodTheLog() throws Exception {
    String src = pg.createDatabase("hsrc");
    String tgt = pg.createDatabase("htgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'x' FROM generate_series(1, 500) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true}, "segment": {"rows": 100},
                   "pace": {"rowsPerSecond": 100}}]}""".formatted(pg.url(src), pg.url(tgt), TOKEN));
    LogCapture logs = LogCapture.root();
    try {
      int port = agent.httpPort();
      for (Case c : CASES) {
        Raw r = Raw.send(port, c.request(), null, null);
        assertEquals(c.status(), r.status(), c.request() + " -> " + r);
        assertTrue(r.contentType().startsWith("application/json"), c.request() + " -> " + r);
        String error = new JsonObject(r.body()).getString("error");
        assertTrue(error.contains(c.says()), c.request() + " -> " + r);
        assertTrue(error.length() < 200 && !error.matches("(?s).*\\b(22021|SQLSTATE|Exception)\\b.*"), c.request() + " -> " + r);
      }
      // A body with a NUL in a string would reach the ledger as text PostgreSQL cannot store.
      Raw nul = Raw.send(port, "POST /api/jobs/items/pause", TOKEN, "{\"reason\": \"a\\u0000b\"}");
      assertEquals(400, nul.status(), nul.toString());
      assertTrue(nul.body().contains("NUL"), nul.toString());
      Raw big = Raw.send(port, "POST /api/jobs/items/pause", TOKEN, "{\"reason\": \"" + "x".repeat(70_000) + "\"}");
      assertEquals(413, big.status(), big.toString());
      assertEquals("request body too large", new JsonObject(big.body()).getString("error"));
      try (WsClient ws = WsClient.connect("ws://127.0.0.1:" + port + "/ws")) {
        ws.send(new JsonObject().put("type", "command").put("id", 1).put("token", TOKEN).put("action", "pause")
            .put("job", "items").put("reason", "a\u0000b"));
        JsonObject r = ws.await(m -> "result".equals(m.getString("type")), 5, "result").json();
        assertEquals(400, r.getInteger("status"), r.encode());
      }
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE paused"), "nothing refused had an effect");

      int before = logs.events().size();
      for (int i = 0; i < 300; i++) {
        assertEquals(400, Raw.send(port, i % 2 == 0 ? "GET /%Hz" : "GET /api/jobs/items%00/events", null, null).status());
      }
      List<ILoggingEvent> all = logs.events();
      List<ILoggingEvent> flood = all.subList(before, all.size());
      for (ILoggingEvent e : flood) {
        boolean http = e.getLoggerName().startsWith("io.vertx") || e.getLoggerName().startsWith("dev.sluice.http");
        assertTrue(!http || e.getLevel().toInt() < Level.INFO.toInt(), "logged during the flood: " + e);
        assertNull(e.getThrowableProxy(), "a stack trace during the flood: " + e);
      }
      assertTrue(logs.events().stream().noneMatch(e -> e.getFormattedMessage().contains("Unhandled exception")),
          "no unhandled exception in the router");

      Raw good = Raw.send(port, "GET /api/jobs/items/events?after=0", null, null);
      assertEquals(200, good.status(), "a good request still works: " + good);
    } finally {
      logs.close();
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  /** One HTTP/1.1 exchange over a plain socket, the request line sent exactly as written. */
  record Raw(int status, String contentType, String body) {
    static Raw send(int port, String requestLine, String token, String body) throws Exception {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder(requestLine).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if (token != null) head.append("Authorization: Bearer ").append(token).append("\r\n");
        if (body != null) head.append("Content-Type: application/json\r\nContent-Length: ").append(content.length).append("\r\n");
        OutputStream out = s.getOutputStream();
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        try {
          out.write(content);
          out.flush();
        } catch (java.io.IOException e) {
          // the server may answer 413 and close before the whole body is sent
        }
        InputStream in = s.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
          for (int n; (n = in.read(buf)) > 0; ) all.write(buf, 0, n);
        } catch (java.net.SocketException e) {
          // reset after the answer: what was read is the answer
        }
        String text = all.toString(StandardCharsets.UTF_8);
        int split = text.indexOf("\r\n\r\n");
        String headers = split < 0 ? text : text.substring(0, split);
        String type = headers.lines().filter(l -> l.toLowerCase().startsWith("content-type:"))
            .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("");
        return new Raw(Integer.parseInt(headers.split(" ")[1]), type, split < 0 ? "" : text.substring(split + 4));
      }
    }
  }
}
