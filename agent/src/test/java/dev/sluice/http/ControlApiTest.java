package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.Main;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Against a real PostgreSQL: a CHECK constraint on the target parks one segment failed with its error
 * and offending key while every other segment is verified; the control API (bearer token, pause,
 * resume, pace, retry, audit) and {@code sluice retry}; an error budget aborts a job, keeping its work.
 */
class ControlApiTest {
  private static final String TOKEN = "control-test-token-0123456789";
  private final TestPg pg = TestPg.get();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final String ROWS = "SELECT row(id, qty)::text FROM items ORDER BY id";

  private String[] databases() {
    String src = pg.createDatabase("ctl_src");
    String tgt = pg.createDatabase("ctl_tgt");
    // Rows 12001..12010 (segment 2 of 5000-row segments) break the target's CHECK.
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int)",
        "INSERT INTO items SELECT g, CASE WHEN g BETWEEN 12001 AND 12010 THEN -1 ELSE g % 50 END FROM generate_series(1, 20000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, qty int CONSTRAINT qty_not_negative CHECK (qty >= 0))");
    return new String[] {src, tgt};
  }

  private String config(String[] db, String jobExtra) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "health": {"intervalMs": 200, "resumeAfterMs": 200},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items"}, "segment": {"rows": 5000}, "batch": {"rows": 1000} %s}]}"""
        .formatted(pg.url(db[0]), pg.url(db[1]), TOKEN, jobExtra);
  }

  private HttpResponse<String> post(Agent agent, String path, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body)).header("content-type", "application/json");
    if (token != null) b.header("Authorization", "Bearer " + token);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aRejectedSegmentIsParkedTheRestVerifiedAndControlWorks() throws Exception {
    String[] db = databases();
    Agent agent = Agents.start(config(db, ", \"concurrency\": {\"max\": 2}"));
    try {
      assertEquals(JobState.FAILED, Await.result(agent.untilDone(), 1, TimeUnit.MINUTES).get("items"));
      assertEquals("failed", pg.string(db[1], "SELECT state FROM sluice.segments WHERE job = 'items' AND seq = 2"));
      String error = pg.string(db[1], "SELECT last_error FROM sluice.segments WHERE seq = 2");
      assertTrue(error.startsWith("23514 ") && error.contains("qty_not_negative"), error);
      String key = pg.string(db[1], "SELECT error_key FROM sluice.segments WHERE seq = 2");
      assertTrue(key.startsWith("Failing row contains (1200"), key);
      assertEquals(3, pg.scalar(db[1], "SELECT count(*) FROM sluice.segments WHERE state = 'verified'"));
      assertEquals(15000, pg.scalar(db[1], "SELECT count(*) FROM items"));

      // Without a token, or with a wrong one: 401, and nothing changes.
      assertEquals(401, post(agent, "/api/jobs/items/pause", null, null).statusCode());
      assertEquals(401, post(agent, "/api/jobs/items/pause", "wrong-token-0123456789", null).statusCode());
      assertEquals("f", pg.string(db[1], "SELECT paused FROM sluice.jobs WHERE name = 'items'"));
      assertEquals(404, post(agent, "/api/jobs/nope/pause", TOKEN, null).statusCode());

      Migrator m = agent.migrators().get("items");
      var paused = post(agent, "/api/jobs/items/pause", TOKEN, "{\"reason\": \"busy hour\"}");
      assertEquals(200, paused.statusCode(), paused.body());
      assertEquals("t", pg.string(db[1], "SELECT paused FROM sluice.jobs WHERE name = 'items'"));
      Eventually.until(Duration.ofSeconds(3), "the gate to show the pause", () -> "paused by api (127.0.0.1): busy hour".equals(m.waitingReason()));
      assertEquals(200, post(agent, "/api/jobs/items/resume", TOKEN, null).statusCode());
      assertEquals("f", pg.string(db[1], "SELECT paused FROM sluice.jobs WHERE name = 'items'"));

      assertEquals(400, post(agent, "/api/jobs/items/pace", TOKEN, "{\"rowsPerSecond\": -5}").statusCode());
      var paced = post(agent, "/api/jobs/items/pace", TOKEN, "{\"rowsPerSecond\": 50000}");
      assertEquals(200, paced.statusCode(), paced.body());
      // The job's budget, and this agent's base rate (its share, before the health factor, which other
      // sessions on a loaded machine can lower at any moment).
      assertEquals(50000.0, m.budget().rowsPerSecond(), 1e-6);
      assertEquals(50000.0, m.pace().baseRate(), 1e-6);

      // The CLI refuses a segment that is not failed; the API retries the parked one once the cause is fixed.
      Path cfg = Files.createTempFile("sluice-retry", ".json");
      Files.writeString(cfg, config(db, ""));
      assertEquals(Main.BAD_CONFIG, Main.execute("retry", "--config", cfg.toString(), "--job", "items", "--segment", "1"));
      pg.exec(db[1], "ALTER TABLE items DROP CONSTRAINT qty_not_negative");
      var retried = post(agent, "/api/jobs/items/retry", TOKEN, "{\"segment\": 2}");
      assertEquals(200, retried.statusCode(), retried.body());
      assertEquals(1, new JsonObject(retried.body()).getInteger("queued"));
      Eventually.until(Duration.ofSeconds(30), "the retried segment to verify",
          () -> pg.scalar(db[1], "SELECT count(*) FROM sluice.segments WHERE state = 'verified'") == 4);
      Eventually.until(Duration.ofSeconds(10), "the job to complete",
          () -> "completed".equals(pg.string(db[1], "SELECT state FROM sluice.jobs WHERE name = 'items'")));
      assertEquals(401, post(agent, "/api/jobs/items/abort", null, null).statusCode());
      var late = post(agent, "/api/jobs/items/abort", TOKEN, "{\"reason\": \"too late\"}");
      assertEquals(409, late.statusCode(), "a completed job has nothing to abort: " + late.body());
      Files.delete(cfg);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(20000, Tables.assertSameRows(pg, db[0], ROWS, db[1], ROWS));
    for (String action : new String[] {"pause", "resume", "pace", "retry"}) {
      assertNotNull(pg.string(db[1], "SELECT message FROM sluice.events WHERE kind = 'control." + action + "' "
          + "AND message LIKE '%by api (127.0.0.1)' AND details->>'client' = '127.0.0.1'"), action + " is audited");
    }
    assertNotNull(pg.string(db[1], "SELECT message FROM sluice.events WHERE kind = 'job.paused' AND message LIKE '%busy hour'"));
  }

  @Test
  void theCliRetriesAParkedSegment() throws Exception {
    String[] db = databases();
    assertEquals(JobState.FAILED, Agents.runUntilDone(config(db, "").replace("\"port\": 0", "\"enabled\": false")).get("items"));
    pg.exec(db[1], "ALTER TABLE items DROP CONSTRAINT qty_not_negative");
    Path cfg = Files.createTempFile("sluice-retry", ".json");
    try {
      Files.writeString(cfg, config(db, ""));
      assertEquals(Main.OK, Main.execute("retry", "--config", cfg.toString(), "--job", "items", "--segment", "2"));
      assertEquals("pending", pg.string(db[1], "SELECT state FROM sluice.segments WHERE seq = 2"));
      assertEquals("copying", pg.string(db[1], "SELECT state FROM sluice.jobs WHERE name = 'items'"));
      assertNotNull(pg.string(db[1], "SELECT message FROM sluice.events WHERE kind = 'segment.pending' AND message LIKE '%by cli (%'"));
    } finally {
      Files.delete(cfg);
    }
    assertEquals(JobState.COMPLETED, Agents.runUntilDone(config(db, "").replace("\"port\": 0", "\"enabled\": false")).get("items"));
    assertEquals(20000, Tables.assertSameRows(pg, db[0], ROWS, db[1], ROWS));
  }

  @Test
  void aSpentErrorBudgetAbortsTheJobKeepingItsWork() {
    String[] db = databases();
    String cfg = config(db, ", \"concurrency\": {\"min\": 1, \"max\": 1}, \"abort\": {\"maxFailedSegments\": 0}")
        .replace("\"port\": 0", "\"enabled\": false");
    assertEquals(JobState.ABORTED, Agents.runUntilDone(cfg).get("items"));
    String reason = pg.string(db[1], "SELECT reason FROM sluice.jobs WHERE name = 'items'");
    assertEquals("error budget spent: 1 segments failed, more than the 0 allowed", reason);
    assertEquals("aborted", pg.string(db[1], "SELECT state FROM sluice.jobs WHERE name = 'items'"));
    assertEquals(2, pg.scalar(db[1], "SELECT count(*) FROM sluice.segments WHERE state = 'verified'"));
    assertEquals(10000, pg.scalar(db[1], "SELECT count(*) FROM items"), "the verified segments' rows are kept");
    assertEquals(1, pg.scalar(db[1], "SELECT count(*) FROM sluice.segments WHERE state = 'pending'"));
  }
}
