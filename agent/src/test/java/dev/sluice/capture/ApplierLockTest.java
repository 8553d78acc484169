package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.SlowConnectProxy;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The applier tries to take its job's lock every {@code capture.pollMs} until it has it. On a source
 * whose sessions take longer than that to open (a loaded host), the attempts must not overlap: a
 * later one that lost the lock to an earlier one closed its connection, the applier then forgot the
 * lock it held, and with the lock held by its own open connection no change was ever applied again.
 */
class ApplierLockTest {
  private final TestPg pg = TestPg.get();

  @Test
  void sessionsSlowerToOpenThanThePollStillApplyChanges() throws Exception {
    String src = pg.createDatabase("lock_src");
    String tgt = pg.createDatabase("lock_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 100) g");
    // Every source session takes 300 ms to open; the applier polls every 10 ms.
    try (SlowConnectProxy slow = new SlowConnectProxy(pg.host(), pg.port(), 300)) {
      // The foreground control is beside the point here, and its sensors would only add slow sessions.
      Agent agent = Agents.start("""
          {"source": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
           "health": {"foreground": {"enabled": false}},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
             "target": {"table": "public.items", "create": true},
             "capture": {"pollMs": 10, "inSyncRows": 0}}]}""".formatted(slow.port(), src, pg.url(tgt)));
      try {
        Eventually.until(Duration.ofSeconds(60), "every segment verified", () -> pg.scalar(tgt,
            "SELECT (count(*) > 0 AND count(*) FILTER (WHERE state <> 'verified') = 0)::int FROM sluice.segments WHERE job = 'items'") == 1);
        pg.exec(src, "UPDATE items SET qty = 7 WHERE id = 42", "DELETE FROM items WHERE id = 43");
        Eventually.until(Duration.ofSeconds(30), "the applier to apply both changes", () -> pg.scalar(tgt,
            "SELECT count(*) FROM items WHERE (id = 42 AND qty = 7) OR id = 43") == 1);
        // Longer than several 300 ms connects: every attempt the poll began has ended (the bug showed only then).
        Thread.sleep(2000);
        pg.exec(src, "UPDATE items SET qty = 8 WHERE id = 44");
        Eventually.until(Duration.ofSeconds(30), "the applier to apply a change made later", () -> pg.scalar(tgt,
            "SELECT qty FROM items WHERE id = 44") == 8);
        assertTrue(agent.migrators().get("items").catchUp().applier().backlog().leader(), "this agent's applier knows it holds the lock");
        // One session holds the lock, and it is the applier's: none was left behind by the attempts.
        assertEquals(1, pg.scalar(src, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            + "AND application_name = 'sluice-applier'"));
        assertEquals(1, pg.scalar(src, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            + "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() "
            + "AND a.application_name = 'sluice-applier'"));
      } finally {
        Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
    }
  }
}
