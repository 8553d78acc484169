package dev.sluice.outlook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The final report of a job that is aborted or rolled back, against a real PostgreSQL: stored by
 * the running agent (REST abort), stored once when the CLI rolls back while an agent runs (both may
 * try; the {@code report/<event>} claim keeps one), and stored by the CLI itself when no agent runs
 * ({@code sluice abort}, {@code sluice rollback}): {@code sluice report} then shows it final, no
 * longer provisional; a report that cannot be stored leaves no claim, so the next try stores it. Each job is held by a closed time window, so only the commands change it.
 */
class EndingReportsTest {
  private static final String TOKEN = "ending-reports-token-0123456789";
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private Path config(String src, String tgt, String agentId) throws Exception {
    DayOfWeek day = Instant.now().atZone(ZoneOffset.UTC).getDayOfWeek().plus(2);
    return Files.writeString(dir.resolve(agentId + ".json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "agent": {"id": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 1000},
                   "schedule": {"timeZone": "UTC", "windows": [{"days": ["%s"], "start": "01:00", "end": "02:00"}]}}]}
        """.formatted(pg.url(src), pg.url(tgt), TOKEN, agentId, day.name().substring(0, 3).toLowerCase()));
  }

  private String source(String name) {
    String src = pg.createDatabase(name);
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 4000) g",
        "ANALYZE items");
    return src;
  }

  /** Who stored the job's latest report (the agent of its {@code job.report} event). */
  private String storedBy(String tgt) {
    return pg.string(tgt, "SELECT agent FROM sluice.events WHERE job = 'items' AND kind = 'job.report' ORDER BY id DESC LIMIT 1");
  }

  @Test
  void anAgentStoresTheReportOfAnAbortAndTheCliRollbackStoresOneOnly() throws Exception {
    String src = source("ersrc");
    String tgt = pg.createDatabase("ertgt");
    Path cfg = config(src, tgt, "report-agent");
    Agent agent = Agents.start(Files.readString(cfg));
    String base = "http://127.0.0.1:" + agent.httpPort();
    try {
      Eventually.until(Duration.ofSeconds(30), "the job planned",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items'") > 0);
      assertFalse(new JsonObject(Http.get(base + "/api/jobs/items/report").body()).getBoolean("final"), "provisional while it runs");

      assertEquals(200, Http.post(base + "/api/jobs/items/abort", TOKEN, "{\"reason\": \"wrong table\"}").status());
      JsonObject aborted = Eventually.value(Duration.ofSeconds(20), "the final report of the abort", () -> {
        JsonObject r = new JsonObject(Http.get(base + "/api/jobs/items/report").body());
        return r.getBoolean("final", false) ? r : null;
      });
      assertEquals("aborted", aborted.getString("outcome"), aborted.encodePrettily());
      assertEquals("report-agent", storedBy(tgt), "the agent stored it");

      // The CLI rolls back while the agent runs: both may store the report; one does.
      Cli rb = Cli.run("rollback", "--config", cfg.toString(), "--job", "items");
      assertEquals(0, rb.exit(), rb.toString());
      Eventually.until(Duration.ofSeconds(20), "the final report of the rollback",
          () -> "rolled_back".equals(new JsonObject(Http.get(base + "/api/jobs/items/report").body()).getString("outcome")));
      JsonObject rolledBack = new JsonObject(Http.get(base + "/api/jobs/items/report").body());
      assertTrue(rolledBack.getBoolean("final"), rolledBack.encodePrettily());
      Thread.sleep(1500); // the agent's next ticks: it must not store the rollback's report a second time
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.reports WHERE job = 'items' AND outcome = 'aborted'"));
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.reports WHERE job = 'items' AND outcome = 'rolled_back'"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  @Test
  void withNoAgentRunningTheCliStoresTheReportOfItsAbortAndRollback() throws Exception {
    String src = source("erclisrc");
    String tgt = pg.createDatabase("erclitgt");
    Path cfg = config(src, tgt, "gone-agent");
    Agent agent = Agents.start(Files.readString(cfg));
    try {
      Eventually.until(Duration.ofSeconds(30), "the job planned",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items'") > 0);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    Cli before = Cli.run("report", "--config", cfg.toString(), "--job", "items");
    assertEquals(0, before.exit(), before.toString());
    assertTrue(before.out().contains("Provisional"), before.out());
    assertTrue(before.out().contains("- Finished: not yet (as of "), before.out());
    assertTrue(before.out().contains(" so far\n"), before.out());
    Cli beforeJson = Cli.run("report", "--config", cfg.toString(), "--job", "items", "--json");
    JsonObject provisional = new JsonObject(beforeJson.out());
    assertTrue(provisional.containsKey("finishedAt") && provisional.getValue("finishedAt") == null, provisional.encodePrettily());
    assertNotNull(provisional.getString("asOf"), provisional.encodePrettily());

    Cli abort = Cli.run("abort", "--config", cfg.toString(), "--job", "items", "--reason", "wrong table");
    assertEquals(0, abort.exit(), abort.toString());
    assertTrue(abort.out().contains("aborted"), abort.out());
    JsonObject r = report(cfg);
    assertEquals("aborted", r.getString("outcome"), r.encodePrettily());
    assertTrue(r.getBoolean("final"), r.encodePrettily());
    assertTrue(storedBy(tgt).startsWith("cli ("), storedBy(tgt));
    Cli md = Cli.run("report", "--config", cfg.toString(), "--job", "items");
    assertFalse(md.out().contains("Provisional"), md.out());
    assertTrue(md.out().contains("aborted"), md.out());

    Cli again = Cli.run("abort", "--config", cfg.toString(), "--job", "items");
    assertEquals(Main.BAD_CONFIG, again.exit(), again.toString());
    assertTrue(again.err().contains("already ended"), again.err());
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.reports WHERE job = 'items'"), "nothing ended: no second report");

    Cli rb = Cli.run("rollback", "--config", cfg.toString(), "--job", "items");
    assertEquals(0, rb.exit(), rb.toString());
    r = report(cfg);
    assertEquals("rolled_back", r.getString("outcome"), r.encodePrettily());
    assertTrue(r.getBoolean("final"), r.encodePrettily());
    Cli rb2 = Cli.run("rollback", "--config", cfg.toString(), "--job", "items");
    assertEquals(0, rb2.exit(), rb2.toString()); // already rolled back: said, and the report stays the one stored
    assertEquals(2, pg.scalar(tgt, "SELECT count(*) FROM sluice.reports WHERE job = 'items'"), "one report per ending");
  }

  @Test
  void aReportThatCannotBeStoredLeavesNoClaimAndIsStoredOnTheNextTry() throws Exception {
    String src = source("erfailsrc");
    String tgt = pg.createDatabase("erfailtgt");
    Path cfg = config(src, tgt, "fail-agent");
    Agent agent = Agents.start(Files.readString(cfg));
    try {
      Eventually.until(Duration.ofSeconds(30), "the job planned",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items'") > 0);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    pg.exec(tgt, "CREATE FUNCTION reports_down() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'reports are down'; END$$",
        "CREATE TRIGGER fail BEFORE INSERT ON sluice.reports FOR EACH ROW EXECUTE FUNCTION reports_down()");
    Cli abort = Cli.run("abort", "--config", cfg.toString(), "--job", "items");
    assertEquals(0, abort.exit(), "the abort stands: " + abort);
    assertTrue(abort.err().contains("could not be stored"), abort.err());
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.notifications WHERE job = 'items' AND key LIKE 'report/%'"),
        "no claim left by the failed store");
    assertFalse(report(cfg).getBoolean("final"), "nothing stored yet: provisional");

    pg.exec(tgt, "DROP TRIGGER fail ON sluice.reports");
    Vertx vertx = Vertx.vertx();
    Pool db = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(tgt).setUser("postgres")).using(vertx).build();
    try {
      assertTrue(Await.result(FinalReports.storeForLatest(db, null, "retry", "items", "aborted")), "stored on the next try");
      assertFalse(Await.result(FinalReports.storeForLatest(db, null, "retry", "items", "aborted")), "once");
    } finally {
      db.close();
      Await.result(vertx.close());
    }
    JsonObject r = report(cfg);
    assertEquals("aborted", r.getString("outcome"));
    assertTrue(r.getBoolean("final"), r.encodePrettily());
  }

  private static JsonObject report(Path cfg) {
    Cli c = Cli.run("report", "--config", cfg.toString(), "--job", "items", "--json");
    assertEquals(0, c.exit(), c.toString());
    return new JsonObject(c.out());
  }

  /** The CLI entry point run in the test JVM, with what it printed. */
  private record Cli(int exit, String out, String err) {
    static Cli run(String... args) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int exit;
      try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
        exit = Main.execute(o, e, args);
      }
      return new Cli(exit, out.toString(), err.toString());
    }
  }
}
