package dev.sluice.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.BuiltJar;
import dev.sluice.testing.AgentProcess;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Tag;

/**
 * Three agent processes on one job of 150k rows in 30 segments, with 3-second leases and 1-second heartbeats. One
 * run checks the shared rate budget, the API's view of the agents, and an agent frozen (SIGSTOP)
 * past its lease; another kills an agent (SIGKILL) mid-run. Both end with every segment verified
 * once, the audit trail showing one lease holder at a time, and every row equal.
 *
 * <p>The rows are few on purpose: the final pass verifies them at the job's budget (150k rows at 8,000
 * rows/s is 19 s), and what the test measures needs only this much. By the end of the rate window
 * (about 12 s after all three hold leases) some 95k rows are copied and 5-8 segments of 5,000 rows are
 * still unclaimed, so every lane of every agent is busy for the whole window and when the agent is frozen.
 */
@Tag("process")
class MultiAgentIT {
  @BeforeAll
  static void builtJar() {
    BuiltJar.path(); // failsafe runs it, after package; without the jar: fails under CI=true, skipped locally
  }

  private static final int ROWS = 150_000;
  private static final String ORDERED = "SELECT row(id, name, qty, note)::text FROM items ORDER BY id";
  private static final TestPg pg = TestPg.get();
  private static String source;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<AgentProcess> agents = new ArrayList<>();

  private Path dir;

  @BeforeEach
  void logDir(TestInfo test) throws Exception {
    // Agent logs stay in target/ for a look after a failure.
    dir = Files.createDirectories(Path.of("target", "fleet-it", test.getTestMethod().orElseThrow().getName()));
  }

  @BeforeAll
  static void seed() {
    source = pg.createDatabase("fleet_src");
    pg.exec(source, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int, note text)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 1000, CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text) END "
            + "FROM generate_series(1, " + ROWS + ") g");
  }

  @AfterEach
  void stopAll() {
    agents.forEach(AgentProcess::close);
  }

  private Path config(String target, int rowsPerSecond) throws Exception {
    return config(target, rowsPerSecond, "auto");
  }

  private Path config(String target, int rowsPerSecond, String mode) throws Exception {
    Path f = dir.resolve("sluice.json");
    Files.writeString(f, """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0},
         "agent": {"leaseSeconds": 3, "heartbeatSeconds": 1}, "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 5000}, "batch": {"rows": 1000}, "mode": "%s",
                   "pace": {"rowsPerSecond": %d}, "concurrency": {"max": 2}}]}""".formatted(pg.url(source), pg.url(target), mode, rowsPerSecond));
    return f;
  }

  private void startThree(Path cfg) throws Exception {
    for (String n : List.of("a", "b", "c")) agents.add(AgentProcess.start(dir, n, "run", "--config", cfg.toString(), "--until-done"));
  }

  private static void waitUntil(String what, int seconds, BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError("timed out after " + seconds + " s waiting until " + what);
      Thread.sleep(100);
    }
  }

  private static long liveHolders(String tgt) {
    if (pg.string(tgt, "SELECT to_regclass('sluice.segments')::text") == null) return 0;
    return pg.scalar(tgt, "SELECT count(DISTINCT owner) FROM sluice.segments WHERE job = 'items' "
        + "AND state IN ('copying', 'copied') AND lease_expires_at > now()");
  }

  private static String agentId(String tgt, AgentProcess p) {
    return pg.string(tgt, "SELECT id FROM sluice.agents WHERE pid = " + p.pid());
  }

  /** Leases the agent holds now, as "seq:epoch"; retried briefly until it holds at least one. */
  private static List<String> heldBy(String tgt, String id) throws InterruptedException {
    for (int i = 0; i < 50; i++) {
      List<String> held = pg.strings(tgt, "SELECT seq || ':' || lease_epoch FROM sluice.segments WHERE owner = '" + id
          + "' AND state IN ('copying', 'copied') AND lease_expires_at > now()");
      if (!held.isEmpty()) return held;
      Thread.sleep(100);
    }
    throw new AssertionError(id + " holds no lease");
  }

  private static int seq(String held) {
    return Integer.parseInt(held.split(":")[0]);
  }

  private static long epoch(String held) {
    return Long.parseLong(held.split(":")[1]);
  }

  private JsonObject get(int port, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return new JsonObject(r.body());
  }

  private void assertAllExitCleanly(List<AgentProcess> which) throws InterruptedException {
    for (AgentProcess p : which) assertEquals(0, p.awaitExit(120), p.name() + " exit code; log:\n" + p.tail());
  }

  private static void assertJobCorrect(String tgt) {
    int segments = (int) pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items'");
    assertEquals(segments, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'"));
    assertEquals("completed", pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'"));
    LeaseHistory history = new LeaseHistory(pg, tgt, "items");
    history.assertEachVerifiedOnce(segments);
    history.assertOneOwnerAtATime();
    assertEquals(ROWS, Tables.assertSameRows(pg, source, ORDERED, tgt, ORDERED));
  }

  @Test
  void threeAgentsShareTheBudgetAndAFrozenAgentIsFenced() throws Exception {
    // A budget three agents and the database can keep up with on a loaded 2-core machine: the test is
    // about sharing it (each agent a third, the sum within 10%), not about how fast the machine is
    // (12,000 rows/s was missed by 10-35% at a load average of 9).
    int budget = 8_000;
    String tgt = pg.createDatabase("fleet_stop");
    // Row batches: a frozen agent's segments are taken over while it stays frozen. On the COPY path a
    // segment whose COPY the frozen agent was in the middle of is not: its open target transaction holds
    // the ledger row FOR KEY SHARE (CopyFencingTest: "not taken over under it"), so that segment waits
    // until the agent runs again (and commits nothing) or its sessions end (docs/consistency.md).
    Path cfg = config(tgt, budget, "rows");
    startThree(cfg);
    int port = agents.get(0).httpPort(90);
    waitUntil("all three agents hold leases", 90, () -> liveHolders(tgt) == 3);
    Thread.sleep(2_000); // two heartbeats: every agent has taken its third of the budget

    // The combined rate, measured on the target itself over a window of about 8 s.
    long rows0 = pg.scalar(tgt, "SELECT count(*) FROM items");
    long t0 = System.nanoTime();
    Thread.sleep(8_000);
    long rows1 = pg.scalar(tgt, "SELECT count(*) FROM items");
    double rate = (rows1 - rows0) / ((System.nanoTime() - t0) / 1e9);
    System.out.printf("combined rate over the window: %.0f rows/s (budget %d)%n", rate, budget);
    assertTrue(Math.abs(rate - budget) <= 0.10 * budget, "combined rate " + Math.round(rate) + " rows/s, budget " + budget);

    // Any agent's API shows every agent on the job.
    JsonArray listed = get(port, "/api/agents").getJsonArray("agents");
    assertEquals(3, listed.size(), listed.encodePrettily());
    for (int i = 0; i < listed.size(); i++) {
      JsonObject a = listed.getJsonObject(i);
      assertTrue(a.getBoolean("alive"), a.encode());
      assertTrue(a.getLong("rowsPerSecond") > 0, a.encode());
      assertEquals(budget / 3.0, a.getJsonArray("jobs").getJsonObject(0).getDouble("rateShare"), 1.0, a.encode());
    }
    JsonObject job = get(port, "/api/jobs").getJsonArray("jobs").getJsonObject(0);
    assertEquals(3, job.getJsonArray("agents").size(), job.encodePrettily());

    // Freeze one agent past its lease; the others take its segments over; then let it run again.
    AgentProcess frozen = agents.get(1);
    String frozenId = agentId(tgt, frozen);
    List<String> held = heldBy(tgt, frozenId);
    frozen.signal("STOP");
    held = pg.strings(tgt, "SELECT seq || ':' || lease_epoch FROM sluice.segments WHERE owner = '" + frozenId
        + "' AND state IN ('copying', 'copied')");
    assertFalse(held.isEmpty(), "the frozen agent held leases");
    List<String> stolen = held;
    waitUntil("the frozen agent's segments are taken over", 60, () -> stolen.stream().allMatch(h ->
        pg.scalar(tgt, "SELECT lease_epoch FROM sluice.segments WHERE job = 'items' AND seq = " + seq(h)) > epoch(h)));
    frozen.signal("CONT");
    assertAllExitCleanly(agents);

    assertJobCorrect(tgt);
    LeaseHistory history = new LeaseHistory(pg, tgt, "items");
    List<LeaseHistory.Event> lost = history.of("segment.lease_lost").stream().filter(e -> e.agent().equals(frozenId)).toList();
    assertFalse(lost.isEmpty(), "the frozen agent reported its lost leases; log:\n" + frozen.tail());
    for (LeaseHistory.Event e : lost) {
      assertTrue(stolen.contains(e.seq() + ":" + e.epoch()), "lost lease " + e + " was one it held when frozen: " + stolen);
      List<LeaseHistory.Event> claims = history.claims(e.seq());
      LeaseHistory.Event next = claims.stream().filter(c -> c.epoch() > e.epoch()).findFirst().orElseThrow();
      assertTrue(next.id() < e.id(), "the takeover came before the frozen agent's refused write");
      assertFalse(next.agent().equals(frozenId), "taken over by another agent");
    }
    assertTrue(frozen.log().contains("write refused"), frozen.tail());

    // `sluice status` lists the agents, all stopped now.
    AgentProcess status = AgentProcess.start(dir, "status", "status", "--config", cfg.toString());
    assertEquals(0, status.awaitExit(60), status.log());
    String out = status.log();
    assertTrue(out.contains("agents: 0 alive, 3 stopped"), out);
    for (AgentProcess p : agents) assertTrue(out.contains(agentId(tgt, p) + " stopped"), out);
    assertTrue(out.contains("ledger row writes"), out);
  }

  @Test
  void aKilledAgentsSegmentsAreTakenOver() throws Exception {
    String tgt = pg.createDatabase("fleet_kill");
    startThree(config(tgt, 30_000));
    waitUntil("all three agents hold leases", 90, () -> liveHolders(tgt) == 3);
    Thread.sleep(1_500);
    AgentProcess killed = agents.get(2);
    String killedId = agentId(tgt, killed);
    // Stopped first, so what it holds is read while it cannot finish or claim a segment; then killed.
    List<String> held = List.of();
    for (int i = 0; i < 20 && held.isEmpty(); i++) {
      heldBy(tgt, killedId);
      killed.signal("STOP");
      held = pg.strings(tgt, "SELECT seq || ':' || lease_epoch FROM sluice.segments WHERE owner = '" + killedId
          + "' AND state IN ('copying', 'copied')");
      if (held.isEmpty()) killed.signal("CONT");
    }
    killed.killHard();
    assertFalse(held.isEmpty(), "the killed agent held leases");
    assertAllExitCleanly(agents.subList(0, 2));

    assertJobCorrect(tgt);
    LeaseHistory history = new LeaseHistory(pg, tgt, "items");
    for (String h : held) {
      LeaseHistory.Event takeover = history.claims(seq(h)).stream().filter(c -> c.epoch() > epoch(h)).findFirst().orElseThrow();
      assertFalse(takeover.agent().equals(killedId), "segment " + seq(h) + " taken over by a live agent");
    }
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.agents WHERE id = '" + killedId
        + "' AND heartbeat_at + make_interval(secs => lease_seconds) > now()"), "the killed agent is no longer alive");
  }
}
