package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.sluice.agent.Agent;
import dev.sluice.testing.LogCapture;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A job is copying when every connection the agent's ledger pool ({@code sluice-ledger}) has open goes
 * dead without a word (a firewall or load balancer that lost those flows, a server that gave up on
 * the sessions during a partition: nothing is reset, no error comes), while new connections work.
 * The agent reaches the target (where the ledger lives) through a {@link FreezingProxy}, which freezes
 * the ledger's sessions only: the copy's own stay alive.
 *
 * <p>Before, each ledger statement in flight, and the next ones on the dead pooled connections (a
 * segment's result, a claim, the heartbeat, the live view), waited for ever (vertx-pg-client has no
 * timeout): the workers holding a segment never came back, the job never completed and its agent
 * could not stop. Now every ledger statement is timed by {@code sessions.stallTimeoutMs}: it fails
 * saying so, the pool's connections are reset, and the statement's caller retries on fresh ones (a
 * segment whose result was lost is copied again, a claim that committed unheard is taken over once its
 * lease expires); the job completes with the tables equal, and the agent stops while the old
 * connections are still dead.
 */
class LedgerStallTest {
  private static final long STALL_MS = 2_000;
  private static final String ROWS = "SELECT row(id, name, qty)::text FROM items ORDER BY id";
  private final TestPg pg = TestPg.get();

  @Test
  void aJobWhoseLedgerConnectionsWentDeadCompletesOnFreshOnesAndTheAgentStops() throws Exception {
    String src = pg.createDatabase("ls_src");
    String tgt = pg.createDatabase("ls_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 6000) g");
    LogCapture logs = LogCapture.root();
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      // Paced (500 rows a segment at 2,000 rows/s: 3 s of copying), so the freeze lands mid-copy; a short
      // lease, so a claim that committed unheard is taken over soon.
      Agent agent = Agents.start("""
          {"source": {"url": "%s"}, "target": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "http": {"enabled": false},
           "agent": {"leaseSeconds": 6, "heartbeatSeconds": 1},
           "health": {"foreground": {"enabled": false}}, "sessions": {"stallTimeoutMs": %d, "idleInTransactionTimeoutMs": 5000},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
             "target": {"table": "public.items", "create": true}, "segment": {"rows": 500}, "concurrency": {"max": 2},
             "pace": {"rowsPerSecond": 2000}}]}""".formatted(pg.url(src), proxy.port(), tgt, STALL_MS));
      boolean stopped = false;
      try {
        Eventually.until(Duration.ofSeconds(30), "segments verified", () -> verified(tgt) >= 2);
        List<Integer> ledger = pg.strings(tgt, "SELECT client_port::text FROM pg_stat_activity WHERE application_name = 'sluice-ledger' "
            + "AND datname = current_database()").stream().map(Integer::valueOf).toList();
        long opened = proxy.connections();
        int frozen = proxy.freezeOpen(ledger);
        assertTrue(frozen >= 2, "the ledger's open connections frozen: " + frozen + " of " + ledger);
        long frozenAt = System.nanoTime();
        Map<String, JobState> states = Await.result(agent.untilDone(), 45, TimeUnit.SECONDS);
        double took = (System.nanoTime() - frozenAt) / 1e9;
        assertEquals(JobState.COMPLETED, states.get("items"));
        assertEquals(6000, Tables.assertSameRows(pg, src, ROWS, tgt, ROWS));
        assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state <> 'verified'"),
            "every segment verified");
        List<String> stalls = lines(logs, "the target stalled: no answer for ");
        assertTrue(!stalls.isEmpty() && stalls.stream().allMatch(l -> l.contains(" while reading or writing the ledger (sessions.stallTimeoutMs 2000); "
            + "the ledger's connections to it were reset")), "the reason in the log: " + stalls);
        assertTrue(proxy.connections() > opened, "fresh connections: " + proxy.connections() + " after " + opened);
        assertTrue(took < 35, "completed " + took + " s after the freeze");
        // The old connections still dead: the agent's stop must not wait on them.
        long stopAt = System.nanoTime();
        Await.result(agent.stop(), 20, TimeUnit.SECONDS);
        stopped = true;
        double stopTook = (System.nanoTime() - stopAt) / 1e9;
        assertTrue(stopTook < 10, "stopped in " + stopTook + " s");
        assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.agents WHERE stopped_at IS NOT NULL"), "its stop recorded");
      } finally {
        proxy.thaw();
        if (!stopped) Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
    } finally {
      logs.close();
    }
  }

  private long verified(String tgt) {
    try {
      return pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'");
    } catch (IllegalStateException e) {
      return 0;
    }
  }

  private static List<String> lines(LogCapture logs, String text) {
    return logs.messages(Level.WARN, text);
  }
}
