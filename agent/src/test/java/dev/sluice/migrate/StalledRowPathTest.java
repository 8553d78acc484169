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
 * The row path's statements run on the agent's shared pools (as the server-side path's, the planning
 * walk's and capture's set-up do), not on the COPY path's watched JDBC sessions. A source that stops
 * answering in the middle of such a segment (a loopback proxy that stops forwarding and closes
 * nothing: a partition, a frozen host) fails the segment once its statement has had no answer for
 * {@code statementTimeoutMs + stallTimeoutMs}, with a reason that names the side and the limit; the
 * segment is retried, and once the source answers again the job completes with the tables equal.
 * Before, the page read waited for as long as the freeze lasted (for ever once the server had given
 * up on the session), the segment "copying" under a lease the agent's heartbeat kept renewing.
 */
class StalledRowPathTest {
  private static final int ROWS = 35_000;
  private final TestPg pg = TestPg.get();

  @Test
  void aSourceThatFreezesMidSegmentOnTheRowPathFailsItAfterTheStatementAndStallTimeoutsAndTheJobCompletes() throws Exception {
    String src = pg.createDatabase("frozen_rows_src");
    String tgt = pg.createDatabase("frozen_rows_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g || ' ' || repeat('x', 80) FROM generate_series(1, " + ROWS + ") g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      String config = """
          {"source": {"url": "postgresql://postgres@127.0.0.1:%d/%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
           "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
           "sessions": {"statementTimeoutMs": 2000, "stallTimeoutMs": 1000},
           "health": {"resumeAfterMs": 1000, "foreground": {"enabled": false}},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"},
             "mode": "rows", "segment": {"rows": 30000}, "batch": {"rows": 1000}, "concurrency": {"max": 1},
             "pace": {"rowsPerSecond": 4000}, "retry": {"baseDelayMs": 100, "maxDelayMs": 500}, "capture": {"enabled": false}}]}"""
          .formatted(proxy.port(), src, pg.url(tgt));
      Agent agent = Agents.start(config);
      try {
        // The first segment's snapshot open on the source, reading pages; a second in, most of its 30,000 rows are
        // still to read (at the job's pace: about 7 s).
        String reading = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + src + "'"
            + " AND application_name = 'sluice-source' AND xact_start IS NOT NULL AND query LIKE 'SELECT b.n%'";
        Eventually.until(Duration.ofSeconds(60), "a segment reading pages", () -> pg.scalar("postgres", reading) == 1);
        Eventually.pause(1000);
        proxy.freeze();
        long frozeAt = System.nanoTime();
        String stalled = "SELECT message FROM sluice.events WHERE job = 'items' AND kind = 'segment.retry'"
            + " AND message LIKE '%the source stalled: no answer for % s while copying, planning or setting up capture"
            + " (sessions.statementTimeoutMs + stallTimeoutMs, 3000 ms); the agent''s connections to it were reset%'"
            + " ORDER BY id LIMIT 1";
        String reason = Eventually.value(Duration.ofSeconds(30), "the segment failed with the stall as its reason",
            () -> pg.string(tgt, stalled));
        long waited = (System.nanoTime() - frozeAt) / 1_000_000;
        assertTrue(waited >= 3000 && waited < 20_000, "the stall was reported " + waited + " ms after the freeze: " + reason);
        proxy.thaw();
        // The stall is proven: the retry need not go at the job's pace.
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
