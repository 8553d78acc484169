package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A whole agent whose source stops answering in the middle of a COPY (every session to it goes
 * through a loopback proxy that stops forwarding, closing nothing: a partition, a frozen host). The
 * segment fails within the stall timeout with a reason that names the side, is retried with backoff
 * like any transient failure, and once the source answers again the job completes with the tables
 * equal. Before, the segment stayed "copying" on a live agent, its lease renewed, for as long as TCP
 * keepalive took (two hours by default).
 */
class StalledSourceMigrationTest {
  /**
   * A first segment of 30,000 rows (the one frozen mid-stream) and a short second one: after the thaw the
   * job copies and verifies every row again (at full speed: the test lifts the pace once the stall is seen).
   */
  private static final int ROWS = 35_000;
  private final TestPg pg = TestPg.get();

  @Test
  void aSourceThatFreezesMidCopyFailsTheSegmentWhichIsRetriedAndTheJobCompletesOnceItAnswers() throws Exception {
    String src = pg.createDatabase("frozen_src");
    String tgt = pg.createDatabase("frozen_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g || ' ' || repeat('x', 80) FROM generate_series(1, " + ROWS + ") g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      // resumeAfterMs: the probe fails closed while the source is frozen; once it answers, the job need not wait
      // the default 5 s of sensor hysteresis (what is tested here is the stall, the retry and the completion).
      String config = """
          {"source": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
           "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
           "sessions": {"stallTimeoutMs": 2000},
           "health": {"resumeAfterMs": 1000, "foreground": {"enabled": false}},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"},
             "segment": {"rows": 30000}, "concurrency": {"max": 1}, "pace": {"rowsPerSecond": 5000},
             "retry": {"baseDelayMs": 100, "maxDelayMs": 500}, "capture": {"enabled": false}}]}"""
          .formatted(proxy.port(), src, pg.url(tgt));
      Agent agent = Agents.start(config);
      try {
        // A segment's snapshot is open on the source from its COPY until the agent read it all (at the job's pace):
        // the server may have sent its rows into the sockets' buffers already, the segment is still streaming.
        String streaming = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + src + "'"
            + " AND application_name = 'sluice-copy-source' AND xact_start IS NOT NULL AND query LIKE 'COPY%'";
        Eventually.until(Duration.ofSeconds(60), "a segment streaming from the source", () -> pg.scalar("postgres", streaming) == 1);
        // Some rows on their way: frozen in the middle of the segment (at the job's pace the source reads its 30,000
        // rows, 1 MiB ahead of what was admitted, in about 4 s; its snapshot ends after that).
        Eventually.pause(200);
        proxy.freeze();
        long frozeAt = System.nanoTime();
        String stalled = "SELECT message FROM sluice.events WHERE job = 'items' AND kind = 'segment.retry'"
            + " AND message LIKE '%the source stalled: no answer for % s while % (sessions.stallTimeoutMs 2000); its sessions were aborted'"
            + " ORDER BY id LIMIT 1";
        String reason = Eventually.value(Duration.ofSeconds(30), "the segment failed with the stall as its reason", () -> pg.string(tgt, stalled));
        long waited = (System.nanoTime() - frozeAt) / 1_000_000;
        // In the middle of the segment: reading its rows, or (every row already in the sockets' buffers) ending its snapshot.
        assertTrue(reason.contains("while reading rows of the COPY") || reason.contains("while ending the snapshot"), reason);
        // The stream drains what the sockets held (at the job's pace), then waits 2 s on the source.
        assertTrue(waited >= 2000 && waited < 20_000, "the stall was reported " + waited + " ms after the freeze");
        proxy.thaw();
        // The stall is proven: the retry and the final pass need not go at the job's pace (7 s each).
        agent.migrators().get("items").setRate(null, 1000);
        Map<String, JobState> states = Await.result(agent.untilDone(), 3, TimeUnit.MINUTES);
        assertEquals(JobState.COMPLETED, states.get("items"));
      } finally {
        proxy.thaw(); // a failed assertion must not leave the agent's stop waiting on a frozen source
        Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      }
    }
    assertEquals(ROWS, Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name)::text FROM items ORDER BY id"));
    LedgerChecks.assertAllVerified(pg, tgt, "items", ROWS);
  }
}
