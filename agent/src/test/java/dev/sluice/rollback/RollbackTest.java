package dev.sluice.rollback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.Main;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rollback after a partial migration: the target as it was, the source without trigger or changelog. */
class RollbackTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private Path config(String src, String tgt, boolean create) throws Exception {
    return Files.writeString(dir.resolve("rb.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": %s},
           "segment": {"rows": 4000}, "batch": {"rows": 1000}, "concurrency": {"max": 1},
           "pace": {"rowsPerSecond": 6000}, "capture": {"pollMs": 100}}]}""".formatted(pg.url(src), pg.url(tgt), create));
  }

  /** Runs the CLI in this JVM: {exit code, stdout, stderr}. */
  static String[] cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit;
    try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
      exit = Main.execute(o, e, args);
    }
    return new String[] {String.valueOf(exit), out.toString(), err.toString()};
  }

  private void assertSourceClean(String src) {
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sluice%'"), "trigger left on the source");
    assertNull(pg.string(src, "SELECT to_regnamespace('sluice')::text"), "schema sluice left on the source");
  }

  @Test
  void rollbackWhileTheAgentRunsLeavesTheTargetAsItWas() throws Exception {
    String src = pg.createDatabase("rb_src");
    String tgt = pg.createDatabase("rb_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 20000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)");
    Path cfg = config(src, tgt, false);
    Agent agent = Agents.start(Files.readString(cfg));
    try {
      waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE state = 'verified'") >= 2, 60);
      pg.exec(src, "UPDATE items SET qty = -1 WHERE id IN (1, 2, 3)", "DELETE FROM items WHERE id = 4"); // captured changes
      assertTrue(pg.scalar(tgt, "SELECT count(*) FROM items") > 0);

      String[] r = cli("rollback", "--config", cfg.toString(), "--job", "items");
      assertEquals("0", r[0], r[1] + r[2]);
      assertTrue(r[1].contains("rolled back"), r[1]);
      // The running agent notices and stops working on the job.
      Map<String, JobState> states = Await.result(agent.untilDone(), 30, TimeUnit.SECONDS);
      assertTrue(states.get("items") == JobState.ROLLING_BACK || states.get("items") == JobState.ROLLED_BACK, states.toString());
      pg.exec(src, "UPDATE items SET qty = -2 WHERE id = 10");
      Thread.sleep(500);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items"), "the target table is empty again, as it was");
    assertEquals("rolled_back", pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'"));
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state <> 'rolled_back'"));
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'capture.removed'"));
    assertSourceClean(src);
    // Running it again changes nothing and says so.
    String[] again = cli("rollback", "--config", cfg.toString(), "--job", "items");
    assertEquals("0", again[0], again[1] + again[2]);
    assertTrue(again[1].contains("already rolled back"), again[1]);
  }

  @Test
  void aTargetSluiceCreatedIsDroppedAndTheJobCanStartAfresh() throws Exception {
    String src = pg.createDatabase("rd_src");
    String tgt = pg.createDatabase("rd_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 12000) g");
    Path cfg = config(src, tgt, true);
    Agent agent = Agents.start(Files.readString(cfg));
    try {
      waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE state = 'verified'") >= 1, 60);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    String[] r = cli("rollback", "--config", cfg.toString(), "--job", "items");
    assertEquals("0", r[0], r[1] + r[2]);
    assertTrue(r[1].contains("target table dropped"), r[1]);
    assertNull(pg.string(tgt, "SELECT to_regclass('public.items')::text"), "Sluice created the table, so it dropped it");
    assertSourceClean(src);
    // Cleanup is for completed jobs only.
    String[] c = cli("cleanup", "--config", cfg.toString(), "--job", "items");
    assertEquals(String.valueOf(Main.BAD_CONFIG), c[0], c[1] + c[2]);
    assertTrue(c[2].contains("is rolled_back"), c[2]);
  }

  /**
   * The deletes keep the pace asked for: 16,000 rows in four ranges of 4,000 at 4,000 rows/s take about
   * (16,000 - a burst of 5,000) / 4,000 = 2.75 s. Charging each batch's size up front, plus a last
   * batch per range that found nothing, took 40,000 rows' worth: 8.75 s or more.
   */
  @Test
  void theDeletesKeepThePaceAskedFor() throws Exception {
    String src = pg.createDatabase("rp_src");
    String tgt = pg.createDatabase("rp_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 16000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)");
    Path cfg = Files.writeString(dir.resolve("rp.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"},
           "segment": {"rows": 4000}, "capture": {"enabled": false}}]}""".formatted(pg.url(src), pg.url(tgt)));
    assertEquals(JobState.COMPLETED, Agents.runUntilDone(Files.readString(cfg)).get("items"));
    assertEquals(4, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items'"));

    long t0 = System.nanoTime();
    String[] r = cli("rollback", "--config", cfg.toString(), "--job", "items", "--rows-per-second", "4000");
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals("0", r[0], r[1] + r[2]);
    assertTrue(r[1].contains("16000 rows deleted from 4 segments"), r[1]);
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items"));
    assertTrue(seconds >= 2.5, "paced: " + seconds + " s");
    assertTrue(seconds < 10, "at the pace asked for, not a fraction of it: " + seconds + " s");
  }

  static void waitFor(BooleanSupplier cond, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + seconds + " s");
      Thread.sleep(50);
    }
  }
}
