package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;

import dev.sluice.agent.Agent;
import dev.sluice.testing.LogCapture;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A job in trigger mode is in sync while the source's users keep writing; then every connection the
 * agent has open to the source goes dead without a word (a firewall or load balancer that lost its
 * state, a server that gave up on its sessions during a partition: the packets vanish, nothing is
 * reset), while new connections work. The agent reaches the source through a {@link FreezingProxy},
 * the test's writer directly.
 *
 * <p>The applier's statement in flight (or its next one, on an idle pooled connection) then waits for
 * an answer that never comes: before, for ever (vertx-pg-client has no timeout, and closing such a
 * connection waits for the server); the target fell behind for good, with nothing in the log. Now the
 * statement fails after {@code sessions.stallTimeoutMs}, with one WARN and the reason in
 * {@code capture.lastApplierError}, the applier's connections to the source are reset, and the batch
 * is applied again on fresh ones: the target catches up with every write while the old connections
 * are still dead, and stays level once they flow again (nothing they held lands late).
 */
class ApplierStallTest {
  private static final long STALL_MS = 2_000;
  private static final String ROWS = "SELECT row(id, name, qty)::text FROM items ORDER BY id";
  private final TestPg pg = TestPg.get();

  @Test
  void anApplierWhoseSourceConnectionsWentDeadAppliesOnFreshOnes() throws Exception {
    String src = pg.createDatabase("as_src");
    String tgt = pg.createDatabase("as_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 2000) g");
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      String config = """
          {"source": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
           "health": {"foreground": {"enabled": false}}, "sessions": {"stallTimeoutMs": %d},
           "jobs": [{"name": "stuck", "source": {"table": "public.items", "key": ["id"]},
             "target": {"table": "public.items", "create": true},
             "segment": {"rows": 1000}, "concurrency": {"max": 2}, "pace": {"rowsPerSecond": 5000},
             "capture": {"mode": "trigger", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(proxy.port(), src, pg.url(tgt), STALL_MS);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong writes = new AtomicLong();
      Agent agent = Agents.start(config);
      LogCapture logs = LogCapture.root();
      Thread writer = new Thread(() -> Writes.random(pg, src, 2_500, stop, writes), "test-writer");
      try {
        writer.start();
        Migrator job = agent.migrators().get("stuck");
        // The final pass over (it holds the applier while it repairs, and its own reads are not watched: docs/runbook.md).
        Writes.waitFor(() -> "in_sync".equals(state(tgt)) && writes.get() > 100 && job.live().backlog().applied() > 0
            && pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'stuck' AND verify_report IS NOT NULL") == 1, 120);
        assertEquals(null, job.live().backlog().lastError(), "no applier failure before the freeze");
        long opened = proxy.connections();
        proxy.freezeOpen();
        long frozenAt = System.nanoTime();
        long before = writes.get();
        // The applier's statement in flight, or its next one (within a poll), waits on a dead connection for the stall timeout.
        String error = Eventually.value(Duration.ofSeconds(15), "the applier's stall reported", () -> job.live().backlog().lastError());
        double found = (System.nanoTime() - frozenAt) / 1e9;
        assertTrue(error.startsWith("the source stalled: no answer for ")
            && error.endsWith(" (sessions.stallTimeoutMs 2000); the applier's connections to it were reset"), error);
        assertTrue(found < 2 * STALL_MS / 1000.0 + 3, "found " + found + " s after the freeze: " + error);
        Eventually.until(Duration.ofSeconds(10), "writes while the old connections are dead", () -> writes.get() > before + 100);
        stop.set(true);
        writer.join();
        // The old connections stay dead: only fresh ones can bring the target level with the source.
        Eventually.until(Duration.ofSeconds(30), "the target level with the source, the old connections still dead",
            () -> pg.strings(src, ROWS).equals(pg.strings(tgt, ROWS)));
        assertTrue(proxy.connections() > opened, "fresh connections to the source: " + proxy.connections() + " after " + opened);
        List<String> rows = pg.strings(tgt, ROWS);
        assertTrue(rows.size() > 1_000, "rows: " + rows.size());
        assertEquals(List.of(error), warnings(logs), "one warning, with the reason");
        assertEquals(error, job.live().backlog().json().getString("lastApplierError"), "GET /api/jobs shows it as capture.lastApplierError");
        proxy.thaw(); // what the dead connections held flows now
        Eventually.pause(1_000);
        assertEquals(pg.strings(src, ROWS), pg.strings(tgt, ROWS), "still level after the thaw");
      } finally {
        logs.close();
        stop.set(true);
        writer.join();
        proxy.thaw(); // the agent's stop must not wait on the dead connections
        Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
    }
  }

  /** The stall reasons the capture package warned of (a message names its reason after a colon). */
  private static List<String> warnings(LogCapture logs) {
    return logs.events().stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN) && e.getLoggerName().startsWith("dev.sluice.capture")
        && e.getFormattedMessage().contains(" stalled")).map(e -> e.getFormattedMessage().replaceFirst("^[^:]*: [^:]*: ", "")).toList();
  }

  private String state(String tgt) {
    try {
      return pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'stuck'");
    } catch (IllegalStateException e) {
      return "";
    }
  }
}
