package dev.sluice.rollback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollback that deadlocks with another ledger writer (PostgreSQL aborts one of the two) runs again by
 * itself instead of failing with "run it again to finish" (seen in DashboardSocketTest: 40P01 between
 * the rollback's lock of the job and its segments and an agent's write that held a segment and then
 * wanted the job). Process-level (the CLI against a ledger an agent filled), so it blocks on the test's
 * thread like the other whole-agent tests.
 */
class RollbackDeadlockTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  @Test
  void aRollbackChosenAsADeadlockVictimRunsAgainAndFinishes() throws Exception {
    String src = pg.createDatabase("rk_src");
    String tgt = pg.createDatabase("rk_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 12000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    Path cfg = Files.writeString(dir.resolve("rk.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items"}, "segment": {"rows": 4000}, "concurrency": {"max": 1},
           "pace": {"rowsPerSecond": 8000}, "capture": {"mode": "trigger", "pollMs": 100}}]}""".formatted(pg.url(src), pg.url(tgt)));
    Agent agent = Agents.start(Files.readString(cfg));
    try {
      RollbackTest.waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE state = 'verified'") >= 1, 60);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertTrue(pg.scalar(tgt, "SELECT count(*) FROM items") > 0);

    try (Connection other = pg.connect(tgt); Statement st = other.createStatement()) {
      other.setAutoCommit(false);
      // The other writer detects deadlocks late, so PostgreSQL picks the rollback as the victim.
      st.execute("SET LOCAL deadlock_timeout = '30s'");
      st.execute("SELECT 1 FROM sluice.segments WHERE job = 'items' AND seq = (SELECT min(seq) FROM sluice.segments WHERE job = 'items') FOR UPDATE");
      CompletableFuture<String[]> rollback = CompletableFuture.supplyAsync(() -> RollbackTest.cli("rollback", "--config", cfg.toString(), "--job", "items"));
      // The rollback has taken the job's row and waits for the segment this session holds...
      RollbackTest.waitFor(() -> pg.scalar(tgt, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND query LIKE '%rolling_back%'") == 1, 30);
      // ...and this session now wants the job's row: a deadlock, which the rollback's session detects first.
      st.executeUpdate("UPDATE sluice.jobs SET updated_at = now() WHERE name = 'items'");
      other.commit();
      String[] r = rollback.get(2, TimeUnit.MINUTES);
      assertEquals("0", r[0], r[1] + r[2]);
      assertTrue(r[1].contains("rolled back"), r[1]);
    }
    assertEquals("rolled_back", pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'"));
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items"), "the target table is empty again, as it was");
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state <> 'rolled_back'"));
  }
}
