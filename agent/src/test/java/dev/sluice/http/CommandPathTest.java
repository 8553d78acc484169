package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One path for every operator command: the same commands, good and bad, sent through REST to one job
 * and through the dashboard's WebSocket to its twin, get the same outcome (status and sentence) and
 * leave the same audit trail (the command's {@code control.<action>} event and the state change's
 * own event), up to who asked. Both jobs are held by a closed time window, so nothing but the
 * commands changes them.
 */
class CommandPathTest {
  private static final String TOKEN = "command-path-token-0123456789";
  private final TestPg pg = TestPg.get();

  /** A step: an action and its arguments (as the REST body and the WebSocket command's fields). */
  private record Step(String action, String args, int status) {}

  private static final List<Step> STEPS = List.of(
      new Step("pause", "{\"reason\": 5}", 400),
      new Step("pause", "{\"reason\": \"" + "x".repeat(501) + "\"}", 400),
      new Step("pause", "{\"reason\": \"a\\u0000b\"}", 400), // NUL: PostgreSQL cannot store it
      new Step("pause", "{}", 200),
      new Step("resume", "{}", 200),
      new Step("pause", "{\"reason\": \"  busy hour \"}", 200),
      new Step("resume", "{}", 200),
      new Step("pace", "{\"rowsPerSecond\": 0}", 400),
      new Step("pace", "{}", 400),
      new Step("pace", "{\"rowsPerSecond\": \"fast\"}", 400),
      new Step("pace", "{\"rowsPerSecond\": 2500}", 200),
      new Step("pace", "{\"rowsPerSecond\": null}", 200),
      new Step("retry", "{\"segment\": 1.5}", 400),
      new Step("retry", "{\"segment\": -1}", 400),
      new Step("retry", "{\"segment\": 1}", 409),
      new Step("fail segment 1", null, 0),
      new Step("retry", "{\"segment\": 1.0}", 200),
      new Step("retry", "{}", 409),
      new Step("complete", "{}", 200),
      new Step("complete", "{}", 409),
      new Step("abort", "{\"reason\": 7}", 400),
      new Step("abort", "{\"reason\": \"done testing\"}", 200),
      new Step("abort", "{}", 409),
      new Step("rollback", "{\"force\": \"yes\"}", 400),
      new Step("rollback", "{}", -1), // 200, or 202 when still going after 1.5 s (timing): done or under way both ways
      new Step("rollback", "{}", 200));

  private String config(String src, String tgt) {
    int h = ZonedDateTime.now(ZoneOffset.UTC).plusHours(12).getHour();
    String job = """
        {"name": "%s", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.%s", "create": true},
         "segment": {"rows": 1000}, "capture": {"enabled": false},
         "schedule": {"windows": [{"start": "%02d:00", "end": "%02d:30"}]}}""";
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"}, "jobs": [%s, %s]}"""
        .formatted(pg.url(src), pg.url(tgt), TOKEN, job.formatted("by_rest", "items_rest", h, h), job.formatted("by_ws", "items_ws", h, h));
  }

  @Test
  void everyCommandHasTheSameOutcomeAndAuditEventThroughRestAndTheWebSocket() {
    String src = pg.createDatabase("cp_src");
    String tgt = pg.createDatabase("cp_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 4000) g");
    Agent agent = Agents.start(config(src, tgt));
    String base = "http://127.0.0.1:" + agent.httpPort();
    try (WsClient ws = WsClient.connect("ws://127.0.0.1:" + agent.httpPort() + "/ws")) {
      ws.await(m -> "hello".equals(m.getString("type")), 5, "hello");
      int id = 0;
      for (Step step : STEPS) {
        if (step.args() == null) {
          pg.exec(tgt, "UPDATE sluice.segments SET state = 'failed', last_error = 'test' WHERE seq = 1");
          continue;
        }
        Http.Response rest = Http.post(base + "/api/jobs/by_rest/" + step.action(), TOKEN, step.args());
        JsonObject restBody = new JsonObject(rest.body());
        ws.send(new JsonObject(step.args()).put("type", "command").put("id", ++id).put("token", TOKEN).put("action", step.action())
            .put("job", "by_ws"));
        int sent = id;
        JsonObject result = ws.await(m -> "result".equals(m.getString("type")) && Integer.valueOf(sent).equals(m.getInteger("id")), 10,
            step.action() + " result").json();
        String what = step.action() + " " + step.args() + ": REST " + rest.body() + ", WebSocket " + result.encode();
        if (step.status() < 0) {
          assertTrue((rest.status() == 200 || rest.status() == 202) && result.getBoolean("ok"), what);
          continue;
        }
        assertEquals(step.status(), rest.status(), what);
        assertEquals(rest.status(), (int) result.getInteger("status"), what);
        String sentence = restBody.getString(rest.status() < 300 ? "message" : "error");
        assertEquals(sentence.replace("by_rest", "JOB"), result.getString("message").replace("by_ws", "JOB"), what);
        if ("pause".equals(step.action()) && step.status() == 200) {
          // Who paused the job is named in the reason it shows; no reason given, none is made up.
          String reason = "{}".equals(step.args()) ? "" : ": busy hour";
          Eventually.until(Duration.ofSeconds(5), "the pauses shown", () ->
              ("paused by api (127.0.0.1)" + reason).equals(agent.migrators().get("by_rest").waitingReason())
                  && String.valueOf(agent.migrators().get("by_ws").waitingReason()).matches("paused by dashboard from 127\\.0\\.0\\.1:\\d+" + reason));
        }
      }
      Eventually.until(Duration.ofSeconds(30), "both rollbacks done", () ->
          pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE state = 'rolled_back'") == 2);
      // An unknown job: the same 404 both ways.
      assertEquals(404, Http.post(base + "/api/jobs/nope/pause", TOKEN, "{}").status());
      ws.send(new JsonObject().put("type", "command").put("id", ++id).put("token", TOKEN).put("action", "pause").put("job", "nope"));
      int last = id;
      assertEquals(404, ws.await(m -> "result".equals(m.getString("type")) && Integer.valueOf(last).equals(m.getInteger("id")), 10,
          "404").json().getInteger("status"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    List<String> byRest = trail(tgt, "by_rest", "api \\(127\\.0\\.0\\.1\\)");
    List<String> byWs = trail(tgt, "by_ws", "dashboard from 127\\.0\\.0\\.1:\\d+");
    assertFalse(byRest.isEmpty());
    assertEquals(byRest, byWs);
    long commands = STEPS.stream().filter(s -> s.args() != null && s.status() != 400).count();
    assertEquals(commands, byRest.stream().filter(e -> e.startsWith("control.")).count(), "one control event a command that reached its job");
    assertTrue(byRest.contains("job.paused job JOB paused by ACTOR: busy hour"), String.join("\n", byRest));
    assertTrue(byRest.stream().anyMatch(e -> e.startsWith("control.pace control pace on job JOB by ACTOR {")
        && e.contains("\"rowsPerSecond\": 2500") && e.contains("\"client\": \"127.0.0.1\"")), String.join("\n", byRest));
  }

  /** The job's operator events, in order: kind, message and details, with the job and who asked made anonymous. */
  private List<String> trail(String tgt, String job, String actor) {
    List<String> out = new ArrayList<>();
    for (String e : pg.strings(tgt, "SELECT kind || ' ' || message || coalesce(' ' || details::text, '') FROM sluice.events "
        + "WHERE job = '" + job + "' AND (kind LIKE 'control.%' OR kind IN ('job.paused', 'job.resumed', 'operator.pace', "
        + "'job.aborted', 'job.complete_requested', 'segment.pending', 'job.rolled_back')) ORDER BY id")) {
      out.add(e.replace(job, "JOB").replaceAll(actor, "ACTOR").replaceAll("\"previous\": [0-9.]+", "\"previous\": N"));
    }
    return out;
  }
}
