package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.sluice.agent.Agent;
import dev.sluice.config.ConfigLoader;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A logical replication slot's creation waits for every transaction (with a transaction id) running
 * on the source cluster when it began, in any database. Behind one that stayed open longer than
 * {@code sessions.statementTimeoutMs} (a batch job's, a session idle in transaction), an agent's
 * start failed with "canceling statement due to statement timeout", every time it was started. Now
 * the creation waits as long as it takes, on a session of its own, and a warning names the
 * transaction it waits for; once that ends the job starts and completes.
 */
class SlotCreationWaitTest {
  private final TestPg pg = TestPg.get();

  @Test
  void theSlotWaitsForALongTransactionInAnotherDatabaseAndSaysWhichOne() throws Exception {
    String src = pg.createDatabase("scw_src");
    String tgt = pg.createDatabase("scw_tgt");
    String busy = pg.createDatabase("scw_busy");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3000) g");
    pg.exec(busy, "CREATE TABLE other (id int)");
    Agent agent = new Agent(ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false}, "health": {"foreground": {"enabled": false}},
         "sessions": {"statementTimeoutMs": 2000},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
           "capture": {"mode": "logical"}}]}""".formatted(pg.url(src), pg.url(tgt))));
    try (LogCapture logs = LogCapture.of(SlotCreation.class); Connection holder = pg.connect(busy); Statement h = holder.createStatement()) {
      h.execute("SET application_name = 'nightly-load'");
      holder.setAutoCommit(false);
      h.execute("INSERT INTO other VALUES (1)"); // a transaction id, left open
      int pid;
      try (var rs = h.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        pid = rs.getInt(1);
      }
      Future<Void> start = agent.start();
      List<String> warned = Eventually.value(Duration.ofSeconds(30), "a warning naming the transaction", () -> {
        List<String> w = logs.messages(Level.WARN, "creating replication slot sluice_items has waited ");
        return w.isEmpty() ? null : w;
      });
      assertTrue(warned.get(0).contains("pid " + pid + " (nightly-load, idle in transaction, database " + busy + ", transaction open for ")
          && warned.get(0).endsWith("; the job starts once they have ended"), warned.get(0));
      // The first warning comes after 5 s, past the 2 s statement timeout twice over: still waiting, not failed.
      assertFalse(start.isComplete(), "the start waits for the slot: " + start.cause());
      holder.commit();
      Await.result(start, 1, TimeUnit.MINUTES);
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("items"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
