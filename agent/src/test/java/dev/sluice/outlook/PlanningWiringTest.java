package dev.sluice.outlook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.sluice.Main;
import dev.sluice.testing.LogCapture;
import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Phase B wired in a running agent, against a real PostgreSQL and a local webhook receiver: a paced
 * job shows a finish date in {@code /api/jobs} and {@code /metrics} while it runs; a second job whose
 * only window is closed finishes no earlier than its next opening, and the API says so; milestones
 * reach the webhook with the bearer token from a file and never in the body; the final report is
 * stored when the job completes and served as JSON and by {@code sluice report} as Markdown; the
 * advice says it has less than a day of data; the learned week has the agent's samples; the webhook's
 * token and URL path appear in no log line and no API answer.
 */
class PlanningWiringTest {
  private static final String TOKEN = "hook-token-0123456789abcdef";
  private static final String SECRET_PATH = "/services/T0/B0/secret-path-xyz";
  private final TestPg pg = TestPg.get();

  @Test
  void finishDatesMilestonesReportAndAdviceInARunningAgent(@TempDir Path dir) throws Exception {
    LogCapture logs = LogCapture.root();
    String src = pg.createDatabase("psrc");
    String tgt = pg.createDatabase("ptgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 16000) g",
        "CREATE TABLE later (id bigint PRIMARY KEY, name text)", "INSERT INTO later SELECT g, 'x' FROM generate_series(1, 5000) g",
        "ANALYZE items", "ANALYZE later");
    Vertx vertx = Vertx.vertx();
    List<JsonObject> posts = new CopyOnWriteArrayList<>();
    List<String> auth = new CopyOnWriteArrayList<>();
    List<String> bodies = new CopyOnWriteArrayList<>();
    HttpServer receiver = Await.result(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      auth.add(String.valueOf(req.getHeader("Authorization")));
      bodies.add(b.toString());
      posts.add(b.toJsonObject());
      req.response().setStatusCode(200).end();
    })).listen(0, "127.0.0.1"));
    Path tokenFile = dir.resolve("hook.token");
    Files.writeString(tokenFile, TOKEN + "\n");
    // The second job's only window: two days from now, 01:00-02:00 UTC, so it is closed now.
    DayOfWeek day = Instant.now().atZone(ZoneOffset.UTC).getDayOfWeek().plus(2);
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0},
         "notify": {"heldMinutes": 1, "webhooks": [{"url": "http://127.0.0.1:%d%s", "tokenFrom": "file:%s",
                    "events": ["started", "progress", "completed"]}]},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true}, "segment": {"rows": 1000}, "batch": {"rows": 500},
                   "pace": {"rowsPerSecond": 3000}, "concurrency": {"max": 2}, "capture": {"enabled": false}},
                  {"name": "later", "source": {"table": "public.later", "key": ["id"]},
                   "target": {"table": "public.later", "create": true}, "pace": {"rowsPerSecond": 100},
                   "capture": {"enabled": false},
                   "schedule": {"timeZone": "UTC", "windows": [{"days": ["%s"], "start": "01:00", "end": "02:00"}]}}]}
        """.formatted(pg.url(src), pg.url(tgt), receiver.actualPort(), SECRET_PATH, tokenFile, day.name().substring(0, 3).toLowerCase());
    Path configFile = dir.resolve("planning.json");
    Files.writeString(configFile, config);
    Agent agent = Agents.start(config);
    String base = "http://127.0.0.1:" + agent.httpPort();
    try {
      // While it runs: a finish date, ISO 8601, within the hour; with a range and what it rests on.
      JsonObject items = Eventually.value(Duration.ofSeconds(30), "a finish date for items", () -> {
        JsonObject j = job(base, "items");
        return j != null && j.getString("finishAt") != null && "copying".equals(j.getString("state")) ? j : null;
      });
      Instant at = Instant.parse(items.getString("finishAt"));
      assertTrue(at.isAfter(Instant.now().minusSeconds(5)) && at.isBefore(Instant.now().plus(Duration.ofHours(1))), "finish " + at);
      JsonObject f = items.getJsonObject("finish");
      assertFalse(f.getBoolean("windowClosed"));
      assertTrue(f.getString("said").startsWith("finishes around"), f.encode());
      assertTrue(f.getString("said").contains("configured rate (3000 rows/s)"), f.encode());
      assertNotNull(Instant.parse(f.getString("earliest")));

      // The closed window: no earlier than the next opening, and said so.
      JsonObject later = Eventually.value(Duration.ofSeconds(20), "a finish date for later", () -> {
        JsonObject j = job(base, "later");
        return j != null && j.getJsonObject("finish") != null && j.getJsonObject("finish").getString("at") != null ? j : null;
      });
      JsonObject lf = later.getJsonObject("finish");
      assertTrue(lf.getBoolean("windowClosed"), lf.encode());
      Instant opens = Instant.parse(lf.getString("noEarlierThan"));
      assertEquals(day, opens.atZone(ZoneOffset.UTC).getDayOfWeek());
      assertEquals(1, opens.atZone(ZoneOffset.UTC).getHour());
      assertTrue(!Instant.parse(lf.getString("at")).isBefore(opens), lf.encode());
      assertTrue(lf.getString("said").contains("no earlier than the next opening"), lf.encode());

      String metrics = Http.get(base + "/metrics").body();
      // The job's label is job or, once metrics moved to base units, sluice_job: either way the series is there.
      assertTrue(java.util.regex.Pattern.compile("(?m)^sluice_job_finish_timestamp_seconds\\{(sluice_)?job=\"items\"} [0-9.E]+$")
          .matcher(metrics).find(), "finish gauge with a time");
      assertTrue(java.util.regex.Pattern.compile("(?m)^sluice_job_window_closed\\{(sluice_)?job=\"later\"} 1\\.0$").matcher(metrics).find(),
          "window closed gauge");

      // The advice: less than a day of data, said; a week strip of 168 hours with the later job's window open in one.
      JsonObject advice = new JsonObject(Http.get(base + "/api/advice").body());
      assertFalse(advice.getBoolean("enoughData"));
      assertTrue(advice.getString("note").contains("less than a day of data"), advice.getString("note"));
      JsonObject laterAdvice = advice.getJsonArray("jobs").stream().map(o -> (JsonObject) o)
          .filter(o -> o.getString("job").equals("later")).findFirst().orElseThrow();
      JsonArray open = laterAdvice.getJsonObject("week").getJsonArray("open");
      assertEquals(168, open.size());
      assertEquals(1, open.stream().filter(o -> ((Number) o).doubleValue() > 0).count(), "one open hour a week");
      assertTrue(laterAdvice.getJsonArray("reasoning").getString(0).contains("less than a day"), laterAdvice.encode());

      // Completion: the milestone, then the stored report.
      Eventually.until(Duration.ofSeconds(90), "items completed", () -> "completed".equals(job(base, "items").getString("state")));
      Eventually.until(Duration.ofSeconds(20), "the completed milestone posted",
          () -> posts.stream().anyMatch(p -> "completed".equals(p.getString("event"))));
      JsonObject report = Eventually.value(Duration.ofSeconds(20), "the final report", () -> {
        JsonObject r = new JsonObject(Http.get(base + "/api/jobs/items/report").body());
        return r.getBoolean("final", false) ? r : null;
      });
      assertEquals("completed", report.getString("outcome"));
      assertEquals(16000, report.getJsonObject("rows").getLong("copied"));
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.reports WHERE job = 'items'"));
      assertEquals(404, Http.get(base + "/api/jobs/nosuchjob/report").status());

      // The webhook: started first, a 25% step, completed; the token in the header only.
      List<String> kinds = posts.stream().map(p -> p.getString("event")).toList();
      assertEquals("started", kinds.get(0), kinds.toString());
      assertTrue(kinds.contains("progress") && kinds.contains("completed"), kinds.toString());
      assertEquals(1, kinds.stream().filter("completed"::equals).count(), "once: " + kinds);
      assertTrue(auth.stream().allMatch(("Bearer " + TOKEN)::equals), auth.toString());
      assertTrue(bodies.stream().noneMatch(b -> b.contains(TOKEN)), "no token in a payload");
      assertTrue(posts.stream().allMatch(p -> p.getString("text") != null && !p.getString("text").isBlank()), "a Slack text field");

      String cfgStatus = Http.get(base + "/api/config").body();
      String hooks = Http.get(base + "/api/notifications").body();
      for (String body : List.of(cfgStatus, hooks)) {
        assertFalse(body.contains(TOKEN) || body.contains("secret-path"), body);
      }
      assertTrue(hooks.contains("http://127.0.0.1:" + receiver.actualPort()), hooks);

      // The CLI: the report as Markdown, the advice as text.
      String md = cli("report", "--config", configFile.toString(), "--job", "items");
      assertTrue(md.contains("completed") && md.contains("16,000"), md);
      assertFalse(md.contains("Provisional"), md);
      String adv = cli("advise", "--config", configFile.toString());
      assertTrue(adv.contains("less than a day of data") && adv.contains("job later"), adv);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      logs.close();
      Await.result(receiver.close());
      Await.result(vertx.close());
    }
    // The learned week: the agent's samples reached the ledger (flushed as it stopped).
    assertTrue(pg.scalar(tgt, "SELECT count(*) FROM sluice.traffic_hours") > 0, "traffic hours recorded");
    assertTrue(pg.scalar(tgt, "SELECT coalesce(sum(rows), 0) FROM sluice.job_hours WHERE job = 'items'") > 0, "job hours recorded");
    for (ILoggingEvent e : List.copyOf(logs.events())) {
      String line = e.getFormattedMessage();
      assertFalse(line.contains(TOKEN) || line.contains("secret-path"), "a secret in a log line: " + line);
    }
  }

  private static JsonObject job(String base, String name) {
    JsonArray jobs = new JsonObject(Http.get(base + "/api/jobs").body()).getJsonArray("jobs");
    return jobs.stream().map(o -> (JsonObject) o).filter(o -> name.equals(o.getString("name"))).findFirst().orElse(null);
  }

  private static String cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit;
    try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
      exit = Main.execute(o, e, args);
    }
    assertEquals(0, exit, out + "\n" + err);
    return out.toString();
  }
}
