package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Someone holds an ACCESS EXCLUSIVE lock on the target table while a job copies into it, with no
 * sensor configured but the probe: the job's waiting reason names the lock, the table and the session
 * holding it; once the lock goes, the reason goes and the job finishes with equal tables.
 */
class LockWaitReasonTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aCopyWaitingForALockSaysSoWhateverSensorsAreConfigured() throws Exception {
    String src = pg.createDatabase("lwsrc");
    String tgt = pg.createDatabase("lwtgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 1000}, "batch": {"rows": 250}, "pace": {"rowsPerSecond": 4000}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    try {
      Migrator m = agent.migrators().get("items");
      Eventually.until(Duration.ofSeconds(60), "a verified segment",
          () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'") > 0);
      String reason;
      try (Connection c = pg.connect(tgt); Statement s = c.createStatement()) {
        // Someone else's session (not named sluice-*), as in production: while its LOCK TABLE still
        // queues behind a Sluice write in flight, it is not itself reported as a Sluice statement waiting.
        s.execute("SET application_name = 'someone-else'");
        c.setAutoCommit(false);
        s.execute("LOCK TABLE public.items IN ACCESS EXCLUSIVE MODE");
        long pid;
        try (ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
          r.next();
          pid = r.getLong(1);
        }
        // Once the lock is ours, Sluice's next statement on the table waits behind this session. (A Sluice
        // statement queued meanwhile behind our LOCK, while it still waited, names us as active: not yet.)
        String blocked = "blocked by pid " + pid + " (";
        reason = Eventually.value(Duration.ofSeconds(20), "the job to say it waits for the lock", () -> {
          String why = m.waitingReason();
          return why != null && why.startsWith("waiting for a lock") && why.contains(blocked) && why.contains("idle in transaction")
              ? why : null;
        });
        assertTrue(reason.contains("on the target want") && reason.contains(" on public.items (for "), reason);
        assertTrue(reason.contains("blocked by pid " + pid + " ("), reason);
        assertTrue(reason.contains("(someone-else, idle in transaction, transaction open "), reason);
        // A pause holds the next statement, not the one queued behind the lock: the reason says both.
        Await.result(m.setPaused(true, "busy hour", "the test"), 10, TimeUnit.SECONDS);
        String both = Eventually.value(Duration.ofSeconds(10), "the pause and the lock, both said", () -> {
          String why = m.waitingReason();
          return why != null && why.startsWith("paused by the test: busy hour; also waiting for a lock: ") ? why : null;
        });
        assertTrue(both.contains(blocked), both);
        c.commit();
      }
      Eventually.until(Duration.ofSeconds(20), "the pause alone once the lock is gone", () -> "paused by the test: busy hour".equals(m.waitingReason()));
      Await.result(m.setPaused(false, null, "the test"), 10, TimeUnit.SECONDS);
      Eventually.until(Duration.ofSeconds(20), "the reason to go with the lock", () -> {
        String why = m.waitingReason();
        return why == null || !why.startsWith("waiting for a lock");
      });
      Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(20000, pg.scalar(tgt, "SELECT count(*) FROM public.items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
