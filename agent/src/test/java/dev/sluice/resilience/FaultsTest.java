package dev.sluice.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.embedded.EmbeddedDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Faults against a real PostgreSQL: the server restarts, backends are killed; the job finishes by itself, every row equal. */
class FaultsTest {
  // Foreground control off: on a loaded machine its probe noise held the copy at 2%, so a segment outlived the killer's
  // 2 s period on every attempt. What is tested is recovery from faults, not the foreground control.
  private static String config(String srcUrl, String tgtUrl, int rate) {
    return config(srcUrl, tgtUrl, rate, 3);
  }

  private static String config(String srcUrl, String tgtUrl, int rate, int breakerFailures) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"intervalMs": 200, "resumeAfterMs": 300, "foreground": {"enabled": false}}, "breaker": {"failures": %d, "openMs": 300, "maxOpenMs": 1000},
         "agent": {"leaseSeconds": 6, "heartbeatSeconds": 1},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true}, "segment": {"rows": 5000}, "batch": {"rows": 500},
                   "pace": {"rowsPerSecond": %d}, "concurrency": {"max": 3},
                   "retry": {"maxAttempts": 20, "baseDelayMs": 100, "maxDelayMs": 1000}}]}""".formatted(srcUrl, tgtUrl, breakerFailures, rate);
  }

  private static final String ROWS = "SELECT row(id, name, qty)::text FROM items ORDER BY id";

  @Test
  void theServerRestartsMidMigrationAndTheJobFinishesByItself() throws Exception {
    // A server of its own (restarting the shared one would disturb other tests), keeping its data
    // directory across the restart.
    Path dir = Files.createTempDirectory("sluice-restart-");
    int port = EmbeddedDatabase.freePort();
    EmbeddedPostgres server = start(dir, port);
    try {
      exec(server, "postgres", "CREATE DATABASE src", "CREATE DATABASE tgt");
      exec(server, "src", "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
          "INSERT INTO items SELECT g, 'item ' || g, g % 97 FROM generate_series(1, 25000) g");
      String url = "postgresql://postgres@127.0.0.1:" + port + "/";
      // The breaker opens at the first lost connection: at a shutdown the health sensor's failed probe closes the
      // job's gate at once, and with it the copy's retries, so a count of three could stay at one or two (seen on a
      // loaded machine), and the pause this test checks would be the sensor's instead.
      Agent agent = Agents.start(config(url + "src", url + "tgt", 8000, 1));
      try {
        Migrator m = agent.migrators().get("items");
        Eventually.until(Duration.ofSeconds(20), "copying to start", () -> m.stats().rows() > 4000);
        server.close(); // fast shutdown: every session of the agent is cut
        Eventually.pause(2000);
        stopped(dir);
        server = start(dir, port);
        assertEquals(JobState.COMPLETED, Await.result(agent.untilDone(), 2, TimeUnit.MINUTES).get("items"));
      } finally {
        Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
      try (Connection s = server.getDatabase("postgres", "src").getConnection();
          Connection t = server.getDatabase("postgres", "tgt").getConnection()) {
        assertEquals(rows(s, ROWS), rows(t, ROWS));
        // The breaker paused the job while the server was down, and it resumed by itself.
        assertNotNull(first(t, "SELECT message FROM sluice.events WHERE kind = 'job.running' AND message LIKE '%unavailable%'"));
        assertEquals("0", first(t, "SELECT count(*) FROM sluice.segments WHERE state <> 'verified'"));
      }
    } finally {
      server.close();
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /**
   * Waits until the stopped server's postmaster has exited (its {@code postmaster.pid} is removed):
   * {@code close()} gives {@code pg_ctl stop} 5 s and, on a loaded machine, returns (logging "Could not
   * stop postmaster") while the shutdown goes on; a new server on the same directory would then not start.
   */
  private static void stopped(Path dir) {
    Eventually.until(Duration.ofSeconds(60), "the stopped server's postmaster to exit", () -> !Files.exists(dir.resolve("postmaster.pid")));
  }

  private static EmbeddedPostgres start(Path dir, int port) throws java.io.IOException {
    return EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(port)
        .setServerConfig("fsync", "off").setServerConfig("synchronous_commit", "off").setServerConfig("max_connections", "100")
        // A connection the agent opens while the server shuts down stays in start-up until authentication_timeout
        // ends it, and the postmaster waits for it: 60 s by default, most of this test's time (as RestartablePg found).
        .setServerConfig("authentication_timeout", "5s")
        .setPGStartupWait(Duration.ofSeconds(60)).start();
  }

  private static void exec(EmbeddedPostgres server, String db, String... sql) throws Exception {
    try (Connection c = server.getDatabase("postgres", db).getConnection(); Statement st = c.createStatement()) {
      for (String q : sql) st.execute(q);
    }
  }

  @Test
  void backendsKilledEveryTwoSecondsAndTheJobFinishesEqual() throws Exception {
    TestPg pg = TestPg.get();
    String src = pg.createDatabase("kill_src");
    String tgt = pg.createDatabase("kill_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 97 FROM generate_series(1, 30000) g");
    AtomicInteger killed = new AtomicInteger();
    Agent agent = Agents.start(config(pg.url(src), pg.url(tgt), 6000));
    Thread killer = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        Eventually.pause(2000);
        killed.addAndGet((int) pg.scalar("postgres", "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            + "WHERE application_name LIKE 'sluice-%' AND datname IN ('" + src + "', '" + tgt + "')) k"));
      }
    }, "killer");
    try {
      killer.setDaemon(true);
      killer.start();
      assertEquals(JobState.COMPLETED, Await.result(agent.untilDone(), 2, TimeUnit.MINUTES).get("items"));
    } catch (IllegalStateException e) {
      if (!(e.getCause() instanceof InterruptedException)) throw e;
    } finally {
      killer.interrupt();
      killer.join(5000);
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertTrue(killed.get() >= 4, "backends were killed during the migration: " + killed.get());
    assertEquals(30000, Tables.assertSameRows(pg, src, ROWS, tgt, ROWS));
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE state <> 'verified'"));
  }

  private static List<String> rows(Connection c, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      while (r.next()) out.add(r.getString(1));
    }
    return out;
  }

  private static String first(Connection c, String sql) throws Exception {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    }
  }
}
