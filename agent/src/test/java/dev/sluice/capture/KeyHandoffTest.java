package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * In logical mode the WAL reader hands the keys it reads to the applier of its own agent in memory
 * ({@link DirectKeys}): once the job is in sync, inserts, updates (of the key too) and deletes reach
 * the target without one entry written to the changelog on the source. While the job is paused the
 * applier takes nothing: the reader records the keys in the changelog as before, and they are applied
 * from there once the job resumes.
 */
class KeyHandoffTest {
  private static final String ROWS = "SELECT count(*) || '/' || coalesce(sum(qty), 0) || '/' || coalesce(sum(id), 0) FROM items";
  private final TestPg pg = TestPg.get();

  @Test
  void keysReadFromTheWalAreAppliedWithoutTheChangelogUnlessTheJobIsPaused() throws Exception {
    String src = pg.createDatabase("kh_src");
    String tgt = pg.createDatabase("kh_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 5000) g");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "handoff", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true}, "segment": {"rows": 1000},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(pg.url(src), pg.url(tgt));
    Agent agent = Agents.start(config);
    try {
      Writes.waitFor(() -> "in_sync".equals(pg.string(tgt, "SELECT coalesce(max(state), '') FROM sluice.jobs")), 120);
      long entries = entriesEver(src);
      pg.exec(src, "UPDATE items SET qty = qty + 1 WHERE id <= 3000", "INSERT INTO items SELECT g, 'new ' || g, 7 FROM generate_series(5001, 5200) g",
          "DELETE FROM items WHERE id BETWEEN 4001 AND 4100", "UPDATE items SET id = 9001 WHERE id = 4500");
      waitForSameRows(src, tgt);
      assertEquals(entries, entriesEver(src), "no key went through the changelog: the reader handed them all to the applier");
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items WHERE id = 4500"), "the key changed: old key deleted");

      var job = agent.migrators().get("handoff");
      Await.result(job.setPaused(true, "test", "test"), 30, TimeUnit.SECONDS);
      pg.exec(src, "UPDATE items SET qty = qty + 10 WHERE id <= 500", "DELETE FROM items WHERE id BETWEEN 100 AND 149");
      Writes.waitFor(() -> entriesEver(src) >= entries + 500, 60);
      assertTrue(!pg.string(src, ROWS).equals(pg.string(tgt, ROWS)), "paused: nothing applied");
      Await.result(job.setPaused(false, "test", "test"), 30, TimeUnit.SECONDS);
      waitForSameRows(src, tgt);
      Writes.waitFor(() -> pg.scalar(src, "SELECT count(*) FROM sluice.changes_handoff") == 0, 60);
      assertEquals(dev.sluice.ledger.JobState.COMPLETED, Await.result(agent.untilDone(), 2, TimeUnit.MINUTES).get("handoff"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(pg.strings(src, "SELECT row(id, name, qty)::text FROM items ORDER BY id"),
        pg.strings(tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_handoff'"), "completed: no slot left");
  }

  /** Entries ever written to the changelog: its id sequence's position (exact, unlike the statistics views). */
  private long entriesEver(String src) {
    return pg.scalar(src, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sluice.changes_handoff_id_seq");
  }

  private void waitForSameRows(String src, String tgt) throws InterruptedException {
    Writes.waitFor(() -> pg.string(src, ROWS).equals(pg.string(tgt, ROWS)), 60);
  }
}
