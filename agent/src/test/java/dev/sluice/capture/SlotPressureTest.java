package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.RestartablePg;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The WAL a job's slot retains is a sensor: the reader is held back (a lock on its changelog, and no
 * applier to hand keys to: the test holds the job's applier lock) while
 * WAL piles up on the source, past {@code slotThrottleMb} the copy slows (the rate reason names the
 * slot), past {@code slotPauseMb} the job waits with the slot's figures as its reason ({@code GET
 * /api/jobs}, the audit trail, {@code sluice_throttled{reason="slot"}}) and copies nothing, and once
 * the reader drains the slot the job runs again and completes equal. The drop limit is not reached.
 */
class SlotPressureTest {
  private static final String TOKEN = "0123456789abcdef0123";
  /**
   * At the job's 400 rows/s, 30 s of copying: the slot reaches its pause level some seconds after the first
   * rows (about 6.6 s on a quiet machine, with the 90 MB of WAL written; the test checks the copy was not
   * over by then, so the copy must outlast that on a loaded machine too); after the pause the rest is
   * copied and every row verified at full speed (the test lifts the pace once the job runs again).
   */
  private static final int ROWS = 12_000;
  private final TestPg pg = TestPg.get();

  @Test
  void retainedWalThrottlesThenPausesTheJobWithTheSlotAsReason() throws Exception {
    // The source is a server of the test's own: a slot's retained WAL can only fall once every transaction
    // older than its restart position has ended, anywhere on its cluster (not only this test's).
    try (RestartablePg source = RestartablePg.start()) {
      run(source);
    }
  }

  private void run(RestartablePg source) throws Exception {
    String src = "sp_src";
    source.exec("postgres", "CREATE DATABASE " + src);
    String tgt = pg.createDatabase("sp_tgt");
    source.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, 0 FROM generate_series(1, " + ROWS + ") g",
        "CREATE SCHEMA sluice", "CREATE TABLE sluice.changes_slotpress (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "slotpress", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true}, "segment": {"rows": 500}, "batch": {"rows": 100},
           "concurrency": {"max": 1}, "pace": {"rowsPerSecond": 400},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20,
                       "slotThrottleMb": 24, "slotPauseMb": 72, "slotDropMb": 4000}}]}""".formatted(source.url(src), pg.url(tgt), TOKEN);
    Connection applierLock = source.connect(src);
    try (Statement a = applierLock.createStatement()) {
      a.execute("SELECT pg_advisory_lock(hashtext('sluice.applier.slotpress'))");
    }
    Agent agent = Agents.start(config);
    String base = "http://127.0.0.1:" + agent.httpPort();
    try (Connection lock = source.connect(src); Statement s = lock.createStatement(); applierLock) {
      Eventually.until(Duration.ofSeconds(60), "the copy under way", () -> agentFigures(base).getLong("rowsWritten", 0L) > 0);
      lock.setAutoCommit(false);
      s.execute("LOCK TABLE sluice.changes_slotpress IN EXCLUSIVE MODE");
      source.exec(src, "UPDATE items SET qty = -1 WHERE id = 1");
      Eventually.until(Duration.ofSeconds(60), "the reader stuck on the lock", () -> source.scalar(src, "SELECT count(*) FROM pg_stat_activity "
          + "WHERE wait_event_type = 'Lock' AND application_name = 'sluice-capture'") == 1);
      // Between the throttle and pause levels: the copy slows, and says why.
      emitMegabytes(source, src, 40);
      JsonObject slowed = Eventually.value(Duration.ofSeconds(30), "the rate reason naming the slot", () -> {
        JsonObject a = agentFigures(base);
        String why = a.getString("rateReason");
        return why != null && why.contains("slot sluice_slotpress retains") ? a : null;
      });
      assertTrue(slowed.getDouble("rateFactor") < 1.0, slowed.encode());
      assertTrue(slowed.getString("rateReason").contains("(throttle at 24 MB, pause at 72 MB)"), slowed.encode());
      assertEquals(null, slowed.getString("waitingReason"), "throttled, not held: " + slowed.encode());
      // Past the pause level: the job waits, with the slot's figures as its reason.
      emitMegabytes(source, src, 50);
      String reason = Eventually.value(Duration.ofSeconds(30), "the job held by its slot", () -> {
        String w = agentFigures(base).getString("waitingReason");
        return w != null && w.startsWith("slot sluice_slotpress retains") ? w : null;
      });
      assertTrue(reason.contains("(pause at 72 MB, dropped at 4000 MB)"), reason);
      // The live view updates the throttle series once a second.
      Eventually.until(Duration.ofSeconds(10), "sluice_throttled{reason=\"slot\"} 1",
          () -> metric(base, "sluice_throttled{reason=\"slot\",sluice_job=\"slotpress\"}") == 1.0);
      assertEquals(0.0, metric(base, "sluice_throttled{reason=\"health\",sluice_job=\"slotpress\"}"));
      Eventually.pause(1500); // a batch already past the gate ends
      long held = agentFigures(base).getLong("rowsWritten");
      assertTrue(held < ROWS, "the copy was still under way when the slot held the job: " + held + " rows written");
      Eventually.pause(2000);
      assertEquals(held, agentFigures(base).getLong("rowsWritten"), "no row copied while the slot holds the job");
      assertTrue(pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'slotpress' AND kind = 'job.waiting' "
          + "AND message LIKE '%slot sluice_slotpress retains%'") >= 1);
      // The reader drains the slot; a checkpoint (its running-transactions record) lets the slot's restart
      // position move past the noise once the reader confirms it.
      lock.rollback();
      applierLock.close();
      Eventually.until(Duration.ofSeconds(60), "the job running again", () -> {
        source.exec(src, "CHECKPOINT");
        Eventually.pause(1000);
        String w = agentFigures(base).getString("waitingReason");
        return w == null || !w.startsWith("slot ");
      });
      // The hold is proven: the rest of the copy and the final pass need not go at the job's pace (about 10 s).
      agent.migrators().get("slotpress").setRate(null, 100);
      Map<String, JobState> states = Await.result(agent.untilDone(), 3, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("slotpress"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'slotpress' AND kind = 'capture.slot_replaced'"),
        "the slot stayed under its drop limit");
    try (Connection a = source.connect(src); Connection b = pg.connect(tgt)) {
      Tables.assertSameRows(a, "SELECT row(id, name, qty)::text FROM items ORDER BY id", b, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    }
  }

  /** WAL that the job's slot must retain (a logical message the publication does not carry). */
  private static void emitMegabytes(RestartablePg source, String db, int mb) {
    source.exec(db, "SELECT count(pg_logical_emit_message(false, 'sluice.test.noise', repeat('x', 1048576))) FROM generate_series(1, " + mb + ")");
  }

  private static JsonObject agentFigures(String base) {
    JsonObject jobs = new JsonObject(Http.get(base + "/api/jobs", TOKEN).body());
    JsonObject job = jobs.getJsonArray("jobs").getJsonObject(0);
    return job.getJsonObject("agent", new JsonObject());
  }

  private static double metric(String base, String series) {
    for (String line : Http.get(base + "/metrics", TOKEN).body().split("\n")) {
      if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).trim());
    }
    return Double.NaN;
  }
}
