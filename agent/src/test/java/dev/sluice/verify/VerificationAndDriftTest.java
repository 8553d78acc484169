package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Http;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The final verification pass finds rows changed behind Sluice's back; schema drift pauses the job. */
class VerificationAndDriftTest {
  private final TestPg pg = TestPg.get();

  private String config(String src, String tgt, double rate, String extra) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true},
           "segment": {"rows": 5000}, "batch": {"rows": 1000}, "concurrency": {"max": 1},
           "pace": {"rowsPerSecond": %s}, "capture": {"pollMs": 100}, "drift": {"intervalMs": 200}%s}]}"""
        .formatted(pg.url(src), pg.url(tgt), rate, extra);
  }

  @Test
  void rowsChangedInTheTargetBehindSluicesBackAreFoundAndRepaired() throws Exception {
    String src = pg.createDatabase("fv_src");
    String tgt = pg.createDatabase("fv_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 20000) g");
    Agent agent = Agents.start(config(src, tgt, 8000, ", \"verify\": {\"sampleRate\": 0.05, \"checks\": [{\"name\": \"qty_sum\", "
        + "\"source\": \"SELECT sum(qty)::text FROM items WHERE ($1::text IS NULL OR id >= $1::text::bigint) AND ($2::text IS NULL OR id < $2::text::bigint)\"}]}"));
    try {
      waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND seq = 0 AND state = 'verified'") == 1, 60);
      // Segment 0 is verified; now someone edits the target directly.
      pg.exec(tgt, "UPDATE items SET name = 'tampered' WHERE id = 10", "DELETE FROM items WHERE id = 20",
          "INSERT INTO items VALUES (-5, 'intruder', 1)");
      // Before the final pass, which waits for untilDone (a capture job does not complete by itself): usually
      // while the rest is copied, on a slow machine perhaps just after.
      String state = pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'");
      assertTrue(state.equals("copying") || state.equals("in_sync"), "tampered before the final pass: " + state);
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(3, pg.scalar(tgt, "SELECT (verify_report->>'mismatches')::int FROM sluice.jobs WHERE name = 'items'"));
    assertEquals(3, pg.scalar(tgt, "SELECT (verify_report->>'repaired')::int FROM sluice.jobs WHERE name = 'items'"));
    assertEquals(0, pg.scalar(tgt, "SELECT (verify_report->>'checksFailed')::int FROM sluice.jobs WHERE name = 'items'"));
    assertTrue(pg.scalar(tgt, "SELECT (verify_report->>'sampledRows')::int FROM sluice.jobs WHERE name = 'items'") > 0);
    String msg = pg.string(tgt, "SELECT message FROM sluice.events WHERE job = 'items' AND kind = 'verify.mismatch'");
    assertTrue(msg.contains("-5") && msg.contains("10") && msg.contains("20"), msg);
    Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
  }

  @Test
  void aColumnAddedToTheSourceMidRunPausesTheJob() throws Exception {
    String src = pg.createDatabase("dr_src");
    String tgt = pg.createDatabase("dr_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 20000) g");
    // HTTP on: the reason is checked where an operator reads it (GET /api/jobs, /metrics).
    Agent agent = Agents.start(config(src, tgt, 2000, "").replace("\"http\": {\"enabled\": false}",
        "\"http\": {\"port\": 0, \"token\": \"" + TOKEN + "\"}"));
    try {
      waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'") >= 1, 60);
      pg.exec(src, "ALTER TABLE items ADD COLUMN extra int");
      waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND paused") == 1, 30);
      String reason = pg.string(tgt, "SELECT pause_reason FROM sluice.jobs WHERE name = 'items'");
      assertTrue(reason.startsWith("schema drift: column extra integer added to source table public.items"), reason);
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'job.paused' "
          + "AND message LIKE '%paused by the drift monitor: schema drift: column extra integer added to source table%'"));
      // The reason shown names who paused the job: the drift monitor, not an operator.
      assertEquals("the drift monitor", pg.string(tgt, "SELECT paused_by FROM sluice.jobs WHERE name = 'items'"));
      Migrator m = agent.migrators().get("items");
      waitFor(() -> String.valueOf(m.waitingReason()).startsWith("paused by the drift monitor: schema drift: column extra"), 5);
      // Paused means paused: no segment is claimed any more.
      long copying = pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'segment.copying'");
      Thread.sleep(1500);
      assertEquals(copying, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'segment.copying'"));

      // What the operator sees: the drift monitor paused it, and the metric's reason says drift, not an operator's pause.
      String base = "http://127.0.0.1:" + agent.httpPort();
      JsonObject job = new JsonObject(Http.get(base + "/api/jobs").body()).getJsonArray("jobs").getJsonObject(0);
      assertEquals("the drift monitor", job.getString("pausedBy"), job.encode());
      String shown = job.getJsonObject("agent").getString("waitingReason");
      assertTrue(shown.startsWith("paused by the drift monitor: schema drift: column extra integer added"), shown);
      assertFalse(shown.contains("operator"), shown);
      waitFor(() -> throttled(base, "drift") == 1.0 && throttled(base, "paused") != 1.0, 10);
      // An operator's pause says who paused it, and is labelled as such.
      assertEquals(200, Http.post(base + "/api/jobs/items/resume", TOKEN, "{}").status());
      assertEquals(200, Http.post(base + "/api/jobs/items/pause", TOKEN, "{\"reason\": \"busy hour\"}").status());
      waitFor(() -> "paused by api (127.0.0.1): busy hour".equals(new JsonObject(Http.get(base + "/api/jobs").body())
          .getJsonArray("jobs").getJsonObject(0).getJsonObject("agent").getString("waitingReason")), 10);
      waitFor(() -> throttled(base, "paused") == 1.0 && throttled(base, "drift") == 0.0, 10);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  @Test
  void aMismatchThatPersistsAfterTheRecopyFailsTheSegmentWithItsKeys() {
    String src = pg.createDatabase("pm_src");
    String tgt = pg.createDatabase("pm_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 8000) g");
    // The target alters row 7 on every write, so every copy of its segment differs from the source.
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "CREATE FUNCTION spoil() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 7 THEN NEW.qty = -1; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER spoil BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION spoil()");
    Map<String, JobState> states = Agents.runUntilDone(config(src, tgt, 1_000_000, "").replace("\"create\": true", "\"create\": false"));
    assertEquals(JobState.FAILED, states.get("items"));
    assertEquals("7", pg.string(tgt, "SELECT error_key FROM sluice.segments WHERE job = 'items' AND seq = 0 AND state = 'failed'"));
    assertTrue(pg.string(tgt, "SELECT last_error FROM sluice.segments WHERE job = 'items' AND seq = 0")
        .contains("differing keys (source as of now): 7"));
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'failed'"));
  }

  private static final String TOKEN = "drift-test-token-0123456789";

  /** The value of {@code sluice_throttled} for the job and a reason label, NaN when not exported. */
  private static double throttled(String base, String reason) {
    // The series of this job and reason, whatever order the exposition writes the labels in.
    return Http.get(base + "/metrics").body().lines()
        .filter(l -> l.startsWith("sluice_throttled{") && l.contains("sluice_job=\"items\"") && l.contains("reason=\"" + reason + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf('}') + 1).trim())).findFirst().orElse(Double.NaN);
  }

  static void waitFor(BooleanSupplier cond, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + seconds + " s");
      Thread.sleep(50);
    }
  }
}
