package dev.sluice.rollback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.TestPg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `sluice rollback` (the CLI's own run of it) whose target connections go silent half-way: a firewall
 * that lost its flows, a failover that sent no reset. Before, the command's pools had no timeout: it
 * hung on the dead connection for ten minutes (the whole command's cap, which also cut a long paced
 * rollback that was working). Now each statement is timed as the agent's are
 * ({@code sessions.statementTimeoutMs + stallTimeoutMs}): the stalled one fails, the rollback runs again
 * on fresh connections, and finishes.
 */
class RollbackStallTest {
  private final TestPg pg = TestPg.get();
  @TempDir
  Path dir;

  @Test
  void aRollbackWhoseConnectionsGoSilentFinishesOnFreshOnes() throws Exception {
    String src = pg.createDatabase("rs_src");
    String tgt = pg.createDatabase("rs_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 16000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)"); // the target's own table: deleted from, not dropped
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port()); LogCapture logs = LogCapture.root()) {
      Path cfg = Files.writeString(dir.resolve("rs.json"), """
          {"source": {"url": "%s"}, "target": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "http": {"enabled": false},
           "sessions": {"statementTimeoutMs": 1000, "stallTimeoutMs": 1000},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"},
             "segment": {"rows": 2000}, "capture": {"enabled": false}}]}""".formatted(pg.url(src), proxy.port(), tgt));
      assertEquals(JobState.COMPLETED, Agents.runUntilDone(Files.readString(cfg)).get("items"));

      // 16,000 rows at 2,000 rows/s: about 5.5 s of deletes (a first burst of 5,000), frozen once some are done.
      CompletableFuture<String[]> rollback = CompletableFuture.supplyAsync(() ->
          RollbackTest.cli("rollback", "--config", cfg.toString(), "--job", "items", "--rows-per-second", "2000"));
      Eventually.until(Duration.ofSeconds(30), "the rollback under way", () -> pg.scalar(tgt, "SELECT count(*) FROM items") < 12000);
      long opened = proxy.connections();
      proxy.freezeOpen();
      String[] r = rollback.get(60, TimeUnit.SECONDS);
      proxy.thaw();
      assertEquals("0", r[0], r[1] + r[2]);
      // What the run deleted in all, across its attempts (not the last attempt's share: 10,000 of 16,000 before), each
      // segment counted once. A batch whose delete committed while its answer was frozen is not counted: at most one.
      Matcher said = Pattern.compile("rolled back: (\\d+) rows deleted from (\\d+) segments").matcher(r[1]);
      assertTrue(said.find(), r[1]);
      long rows = Long.parseLong(said.group(1));
      long segments = Long.parseLong(said.group(2));
      assertTrue(rows > 16000 - Rollback.DELETE_BATCH_ROWS && rows <= 16000, r[1]);
      long ledger = pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'rolled_back'");
      assertTrue(segments >= ledger - 1 && segments <= ledger, r[1] + " (the ledger: " + ledger + ")");
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items"));
      assertEquals("rolled_back", pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'"));
      assertTrue(proxy.connections() > opened, "fresh connections: " + proxy.connections() + " after " + opened);
      List<String> interrupted = logs.messages(Level.WARN, "rollback interrupted (the target stalled: no answer for ");
      assertFalse(interrupted.isEmpty(), "the stall in the log");
      assertTrue(interrupted.get(0).contains("while running sluice rollback (sessions.statementTimeoutMs + stallTimeoutMs, 2000 ms); "
          + "the command's connections to it were reset"), interrupted.get(0));
    }
  }
}
