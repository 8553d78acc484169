package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.Statement;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Against a real PostgreSQL: sensors pause the job with a reason and it resumes; stale sensors fail closed; windows. */
class HealthSensorsTest {
  private final TestPg pg = TestPg.get();

  private String[] databases(int rows) {
    String src = pg.createDatabase("health_src");
    String tgt = pg.createDatabase("health_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, " + rows + ") g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    return new String[] {src, tgt};
  }

  private String config(String src, String tgt, String health, String jobExtra) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "health": %s,
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items"}, "segment": {"rows": 2000}, "batch": {"rows": 100, "minRows": 50},
                   "concurrency": {"max": 2} %s}]}""".formatted(pg.url(src), pg.url(tgt), health, jobExtra);
  }

  @Test
  void aTableLockOnTheTargetPausesTheJobUntilReleased() throws Exception {
    String[] db = databases(8000);
    Agent agent = Agents.start(config(db[0], db[1],
        "{\"intervalMs\": 200, \"resumeAfterMs\": 500, \"lockWaiters\": {\"database\": \"target\", \"max\": 0}}",
        ", \"pace\": {\"rowsPerSecond\": 2000, \"burstRows\": 100}"));
    try (Connection locker = pg.connect(db[1]); Statement st = locker.createStatement()) {
      Migrator m = agent.migrators().get("items");
      Eventually.until(Duration.ofSeconds(10), "copying to start", () -> m.stats().rows() > 0);
      locker.setAutoCommit(false);
      st.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
      String why = Eventually.value(Duration.ofSeconds(10), "the lock-wait sensor to pause the job",
          () -> m.waitingReason() != null && m.waitingReason().contains("waiting on locks") ? m.waitingReason() : null);
      assertTrue(why.startsWith("backends waiting on locks on target "), why);
      long held = m.stats().rows();
      Eventually.pause(600);
      assertEquals(held, m.stats().rows(), "nothing is written while the lock is held");
      locker.commit();
      // The pause is proven: the rest of the copy and the final pass need not go at the job's pace (4 s each).
      m.setRate(null, 100);
      assertEquals(JobState.COMPLETED, Await.result(agent.untilDone(), 1, TimeUnit.MINUTES).get("items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(8000, Tables.assertSameRows(pg, db[0], "SELECT row(id, name)::text FROM items ORDER BY id",
        db[1], "SELECT row(id, name)::text FROM items ORDER BY id"));
    assertNotNull(pg.string(db[1], "SELECT message FROM sluice.events WHERE kind = 'job.waiting' "
        + "AND message LIKE 'job items waiting: backends waiting on locks on target%'"));
    assertNotNull(pg.string(db[1], "SELECT message FROM sluice.events WHERE kind = 'job.running'"));
  }

  @Test
  void aSensorWhoseQueryHangsPausesTheJob() {
    String[] db = databases(20000);
    String probe = "SELECT pg_sleep(CASE WHEN to_regclass('public.hang_now') IS NULL THEN 0 ELSE 30 END)";
    Agent agent = Agents.start(config(db[0], db[1],
        "{\"intervalMs\": 200, \"graceMs\": 800, \"resumeAfterMs\": 300, \"timeoutMs\": 3000, \"probe\": {\"sql\": \"" + probe + "\"}}",
        ", \"pace\": {\"rowsPerSecond\": 2000, \"burstRows\": 100}"));
    try {
      Migrator m = agent.migrators().get("items");
      Eventually.until(Duration.ofSeconds(10), "copying to start", () -> m.stats().rows() > 0);
      pg.exec(db[0], "CREATE TABLE hang_now ()");
      String why = Eventually.value(Duration.ofSeconds(10), "the stale probe to pause the job",
          () -> m.waitingReason() != null && m.waitingReason().contains("has not answered") ? m.waitingReason() : null);
      assertTrue(why.startsWith("probe latency on source has not answered for "), why);
      assertTrue(why.endsWith("failing closed"), why);
      Eventually.pause(200);
      long held = m.stats().rows();
      Eventually.pause(800);
      assertEquals(held, m.stats().rows(), "nothing is written while the probe hangs");
      pg.exec(db[0], "DROP TABLE hang_now");
      Eventually.until(Duration.ofSeconds(15), "copying to resume", () -> m.stats().rows() > held);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  @Test
  void outsideItsTimeWindowNothingIsCopied() {
    String[] db = databases(1000);
    DayOfWeek tomorrow = ZonedDateTime.now(ZoneOffset.UTC).getDayOfWeek().plus(1);
    String day = tomorrow.name().substring(0, 3).toLowerCase(Locale.ROOT);
    Agent agent = Agents.start(config(db[0], db[1], "{\"intervalMs\": 200}",
        ", \"schedule\": {\"timeZone\": \"UTC\", \"windows\": [{\"days\": [\"" + day + "\"], \"start\": \"00:00\", \"end\": \"24:00\"}]}"));
    try {
      Migrator m = agent.migrators().get("items");
      String why = Eventually.value(Duration.ofSeconds(5), "the schedule to hold the job", m::waitingReason);
      assertTrue(why.startsWith("outside the time windows (" + day + " 00:00-24:00 UTC); next opens "), why);
      Eventually.pause(1500);
      assertEquals(0, m.stats().rows());
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    assertEquals(0, pg.scalar(db[1], "SELECT count(*) FROM items"));
    assertEquals(0, pg.scalar(db[1], "SELECT count(*) FROM sluice.segments WHERE state <> 'pending'"));
  }
}
