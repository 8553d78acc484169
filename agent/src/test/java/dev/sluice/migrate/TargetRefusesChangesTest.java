package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A target that refuses captured changes. Found black-box: a target whose key is a GENERATED ALWAYS
 * identity column took the copy (COPY FROM writes it) and refused every captured change (INSERT
 * without OVERRIDING SYSTEM VALUE: 428C9); the applier failed batch after batch, and `sluice complete`
 * completed the job anyway, the changes unapplied and the applier stopped: updates and deletes lost,
 * without a word in the job's state. Now the applier writes identity columns as the copy does, and a
 * job whose last drain failed (here a CHECK the target adds that a change violates) does not complete
 * until the changes go through.
 */
class TargetRefusesChangesTest {
  private final TestPg pg = TestPg.get();

  private String state(String tgt) {
    return pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'");
  }

  @Test
  void aJobCompletesOnlyOnceItsCapturedChangesAreApplied() {
    String src = pg.createDatabase("refuse_src");
    String tgt = pg.createDatabase("refuse_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 2000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int NOT NULL CONSTRAINT small CHECK (v < 100))");
    Agent agent = Agents.start(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"},
         "segment": {"rows": 500}, "capture": {"pollMs": 100}}"""));
    try {
      Eventually.until(Duration.ofMinutes(2), "in sync, final pass done", () -> "in_sync".equals(state(tgt))
          && pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND verify_report IS NOT NULL") == 1);
      pg.exec(src, "UPDATE items SET v = 1 WHERE id % 100 = 0", "INSERT INTO items VALUES (5000, 2)", "DELETE FROM items WHERE id = 7",
          "UPDATE items SET v = 500 WHERE id = 9"); // the target's CHECK refuses this one
      pg.exec(tgt, "UPDATE sluice.jobs SET complete_requested = true WHERE name = 'items'");
      Eventually.pause(5_000);
      assertEquals("in_sync", state(tgt), "a job whose changes the target refuses does not complete");
      pg.exec(tgt, "ALTER TABLE items DROP CONSTRAINT small");
      Eventually.until(Duration.ofMinutes(1), "completed", () -> "completed".equals(state(tgt)));
      String q = "SELECT id, v FROM items ORDER BY id";
      assertEquals(2000, Tables.assertSameRows(pg, src, q, tgt, q));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
