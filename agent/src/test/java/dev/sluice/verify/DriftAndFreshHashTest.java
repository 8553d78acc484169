package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The three consistency rules not covered elsewhere: the final pass verifies every segment against a
 * fresh source hash, so a change no trigger saw is found and repaired; a NULL share that drifts between
 * source inputs and target pauses the job; a value the target type cannot hold parks its segment and pauses.
 */
class DriftAndFreshHashTest {
  private final TestPg pg = TestPg.get();

  private String config(String src, String tgt, String create, String extra) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": %s},
           "segment": {"rows": 5000}, "batch": {"rows": 1000}, "concurrency": {"max": 1},
           "pace": {"rowsPerSecond": 8000}, "capture": {"pollMs": 100}%s}]}"""
        .formatted(pg.url(src), pg.url(tgt), create, extra);
  }

  @Test
  void theFinalPassReadsTheSourceAfreshAndRepairsAChangeNoTriggerSaw() throws Exception {
    String src = pg.createDatabase("fh_src");
    String tgt = pg.createDatabase("fh_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g");
    Agent agent = Agents.start(config(src, tgt, "true", ""));
    try {
      VerificationAndDriftTest.waitFor(() -> pg.scalar(tgt,
          "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq = 0 AND state = 'verified'") == 1, 60);
      pg.exec(src, "UPDATE items SET name = 'changed after its copy' WHERE id = 10",
          // A write with the capture trigger disabled (a DBA's bulk fix, a restore): capture misses it.
          // (A replica session's no longer is: the triggers are ENABLE ALWAYS, ReplicaRoleCaptureTest.)
          "ALTER TABLE items DISABLE TRIGGER sluice_capture_items_upd", "UPDATE items SET name = 'no trigger saw this' WHERE id = 5",
          "ALTER TABLE items ENABLE ALWAYS TRIGGER sluice_capture_items_upd");
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    String report = pg.string(tgt, "SELECT verify_report::text FROM sluice.jobs WHERE name = 'items'");
    assertEquals(4, pg.scalar(tgt, "SELECT (verify_report->>'segments')::int FROM sluice.jobs WHERE name = 'items'"), report);
    assertEquals(4, pg.scalar(tgt, "SELECT (verify_report->>'segmentsWithFreshSource')::int FROM sluice.jobs WHERE name = 'items'"),
        "every segment is hashed afresh on the source, not only those a captured change reached: " + report);
    assertEquals(1, pg.scalar(tgt, "SELECT (verify_report->>'mismatches')::int FROM sluice.jobs WHERE name = 'items'"), report);
    assertEquals(1, pg.scalar(tgt, "SELECT (verify_report->>'repaired')::int FROM sluice.jobs WHERE name = 'items'"), report);
    assertEquals("changed after its copy", pg.string(tgt, "SELECT name FROM items WHERE id = 10"));
    assertEquals("no trigger saw this", pg.string(tgt, "SELECT name FROM items WHERE id = 5"));
    Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id", tgt, "SELECT row(id, name)::text FROM items ORDER BY id");
  }

  @Test
  void aNullShareThatDriftsFromTheSourceInputsPausesTheJob() throws Exception {
    String src = pg.createDatabase("nd_src");
    String tgt = pg.createDatabase("nd_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, note text NOT NULL)",
        "INSERT INTO items SELECT g, CASE WHEN g % 2 = 0 THEN 'x' ELSE 'note ' || g END FROM generate_series(1, 4000) g");
    // The mapping turns half of the (never NULL) notes into NULL: 50% NULL in the target against 0% in the source.
    Agent agent = Agents.start(config(src, tgt, "true", """
        , "columns": {"id": "id", "note": "nullif(note, 'x')"},
          "verify": {"sampleRate": 1.0}, "drift": {"nullRatioThreshold": 0.05}"""));
    try {
      VerificationAndDriftTest.waitFor(() -> {
        String reason = pg.string(tgt, "SELECT pause_reason FROM sluice.jobs WHERE name = 'items'");
        return reason != null && reason.contains("column note is NULL in");
      }, 90);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    String reason = pg.string(tgt, "SELECT pause_reason FROM sluice.jobs WHERE name = 'items'");
    assertTrue(reason.startsWith("data drift:") && reason.contains("50.0%") && reason.contains("0.0%"), reason);
  }

  @Test
  void aValueTheTargetTypeCannotHoldParksItsSegmentAndPausesTheJob() throws Exception {
    String src = pg.createDatabase("ov_src");
    String tgt = pg.createDatabase("ov_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, amount numeric(12, 2) NOT NULL)",
        "INSERT INTO items SELECT g, (g % 900) + 0.25 FROM generate_series(1, 20000) g",
        "UPDATE items SET amount = 123456.78 WHERE id = 7777");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, amount numeric(5, 2) NOT NULL)");
    Agent agent = Agents.start(config(src, tgt, "false", "").replace("\"capture\": {\"pollMs\": 100}", "\"capture\": {\"enabled\": false}"));
    try {
      VerificationAndDriftTest.waitFor(() -> {
        String reason = pg.string(tgt, "SELECT pause_reason FROM sluice.jobs WHERE name = 'items'");
        return reason != null && reason.contains("cannot hold");
      }, 90);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    String reason = pg.string(tgt, "SELECT pause_reason FROM sluice.jobs WHERE name = 'items'");
    assertTrue(reason.startsWith("data drift: segment 1 holds a value the target type cannot hold") && reason.contains("22003"), reason);
    assertEquals("failed", pg.string(tgt, "SELECT state FROM sluice.segments WHERE job = 'items' AND seq = 1"));
    assertTrue(pg.string(tgt, "SELECT last_error FROM sluice.segments WHERE job = 'items' AND seq = 1").startsWith("22003"));
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq = 0 AND state = 'verified'"),
        "the segment before it was copied and verified");

    // With no HTTP API (http.enabled false), the CLI alone: the value fixed, the job resumed (a restart alone
    // keeps the pause, which the ledger holds), the parked segment retried; the next agent completes the job.
    pg.exec(src, "UPDATE items SET amount = 999.99 WHERE id = 7777");
    Path cfg = Files.createTempFile("sluice-resume", ".json");
    try {
      Files.writeString(cfg, config(src, tgt, "false", "").replace("\"capture\": {\"pollMs\": 100}", "\"capture\": {\"enabled\": false}"));
      assertEquals(Main.OK, Main.execute("resume", "--config", cfg.toString(), "--job", "items"));
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND paused"));
      assertEquals(Main.OK, Main.execute("pause", "--config", cfg.toString(), "--job", "items", "--reason", "fixing row 7777"));
      assertEquals("fixing row 7777", pg.string(tgt, "SELECT pause_reason FROM sluice.jobs WHERE name = 'items' AND paused"));
      assertEquals(Main.OK, Main.execute("resume", "--config", cfg.toString(), "--job", "items"));
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND paused"));
      assertEquals(2, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'control.resume' AND message LIKE '%by cli (%'"));
      assertEquals(Main.BAD_CONFIG, Main.execute("resume", "--config", cfg.toString(), "--job", "nope"));
      assertEquals(Main.OK, Main.execute("retry", "--config", cfg.toString(), "--job", "items"));
      Map<String, JobState> states = Agents.runUntilDone(Files.readString(cfg));
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      Files.delete(cfg);
    }
    String rows = "SELECT row(id, amount)::text FROM items ORDER BY id";
    assertEquals(20000, Tables.assertSameRows(pg, src, rows, tgt, rows));
  }
}
