package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload that changes {@code segment.rows} re-cuts the pending segments of a running job within two
 * seconds (smaller: split; larger: merged), tiling the same key span; a segment another agent holds
 * is left alone. Then the copy goes on (the time window lifted by a reload) and every row arrives,
 * verified, and changes made afterwards are still applied to the right segments.
 */
class SegmentSizeReloadTest {
  private static final String TOKEN = "replan-token-0123456789";
  private static final String ROW = "SELECT row(id, name)::text FROM items ORDER BY id";
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  /**
   * {@code held}: a time window twelve hours away, so nothing is claimed until a reload lifts it. The
   * foreground control is off: while it sees users (or a loaded machine's probe noise) it caps the
   * batch size by its rate, and this test checks the configured batch size.
   */
  private String config(String src, String tgt, int segmentRows, int batchRows, boolean held, String concurrency) {
    int h = ZonedDateTime.now(ZoneOffset.UTC).plusHours(12).getHour();
    String schedule = held ? ", \"schedule\": {\"windows\": [{\"start\": \"%02d:00\", \"end\": \"%02d:30\"}]}".formatted(h, h) : "";
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": %d}, "batch": {"rows": %d}, "concurrency": %s%s}]}"""
        .formatted(pg.url(src), pg.url(tgt), TOKEN, segmentRows, batchRows, concurrency, schedule);
  }

  @Test
  void pendingSegmentsAreRecutLiveAndTheJobStillMigratesEveryRow() throws Exception {
    String src = pg.createDatabase("ssrc");
    String tgt = pg.createDatabase("stgt");
    // Sparse keys: ids 3, 6, .., 60000; 20,000 rows.
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g * 3, 'item ' || g FROM generate_series(1, 20000) g");
    Path file = dir.resolve("sluice.json");
    Files.writeString(file, config(src, tgt, 2000, 500, true, "{\"max\": 1}"));
    Agent agent = new Agent(ConfigLoader.load(file)).watching(file);
    Await.result(agent.start(), 2, TimeUnit.MINUTES);
    try {
      Migrator m = agent.migrators().get("items");
      assertEquals(10, count(tgt, "TRUE"), "planned at 2000 rows");
      // Another agent holds segment 5 (a live lease in the ledger): a re-plan must not touch it.
      pg.exec(tgt, "UPDATE sluice.segments SET state = 'copying', owner = 'agent-elsewhere', lease_epoch = lease_epoch + 1, "
          + "lease_expires_at = now() + interval '10 minutes', attempts = 1, started_at = now() WHERE job = 'items' AND seq = 5");
      String held = range(tgt, 5);

      // Smaller: the runs [seq 0..4] and [seq 6..9] (10,000 and 8,000 rows) split at 700 rows.
      Files.writeString(file, config(src, tgt, 700, 300, true, "{\"max\": 1}"));
      long t0 = System.nanoTime();
      Eventually.until(Duration.ofSeconds(10), "pending segments re-cut at 700 rows", () -> count(tgt, "seq >= 10") > 0);
      System.out.printf("segments re-cut %d ms after the file was written%n", (System.nanoTime() - t0) / 1_000_000);
      assertEquals(1 + 15 + 12, count(tgt, "TRUE"), "15 + 12 segments of at most 700 rows, and the held one");
      assertEquals(0, count(tgt, "seq < 10 AND seq <> 5"), "the old pending segments are gone");
      assertEquals(held, range(tgt, 5), "the held segment keeps its range");
      assertEquals("agent-elsewhere", pg.string(tgt, "SELECT owner FROM sluice.segments WHERE job = 'items' AND seq = 5"));
      assertEquals(2, count(tgt, "seq >= 10 AND rows_planned < 700"), "only each run's last segment is short");
      assertTiles(tgt);
      // The re-plan and the new batch size are two effects of one reload, applied one after the other.
      Eventually.until(Duration.ofSeconds(10), "batch.rows 300 in force for the next batch", () -> m.pace().batchRows() == 300);

      // Larger: the two runs merge into segments of 5000 rows.
      Files.writeString(file, config(src, tgt, 5000, 300, true, "{\"max\": 1}"));
      Eventually.until(Duration.ofSeconds(10), "pending segments re-cut at 5000 rows", () -> count(tgt, "TRUE") == 1 + 2 + 2);
      assertEquals(held, range(tgt, 5));
      assertEquals(List.of("5000", "5000", "5000", "3000"),
          pg.strings(tgt, "SELECT rows_planned::text FROM sluice.segments WHERE job = 'items' AND seq <> 5 ORDER BY seq"));
      assertTiles(tgt);
      assertEquals(20000, pg.scalar(tgt, "SELECT rows_planned FROM sluice.jobs WHERE name = 'items'"), "job total rows planned");
      assertEquals(5, pg.scalar(tgt, "SELECT segments_planned FROM sluice.jobs WHERE name = 'items'"), "job total segments");

      String events = Http.get("http://127.0.0.1:" + agent.httpPort() + "/api/jobs/items/events").body();
      assertTrue(events.contains("job.segments_replanned") && events.contains("re-cut at 700 rows")
          && events.contains("re-cut at 5000 rows"), events);
      assertEquals(2, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'job.segments_replanned'"), "one event a re-plan");

      // The other agent's lease runs out; a reload lifts the window and raises concurrency: all copies.
      pg.exec(tgt, "UPDATE sluice.segments SET lease_expires_at = now() - interval '1 second' WHERE job = 'items' AND seq = 5");
      // The same file changes the breaker: accepted, said to apply at the next restart.
      Files.writeString(file, config(src, tgt, 5000, 300, false, "{\"min\": 2, \"max\": 3}")
          .replace("\"http\":", "\"breaker\": {\"failures\": 5}, \"http\":"));
      Eventually.until(Duration.ofSeconds(10), "concurrency bounds in force", () -> m.pace().concurrency() >= 2);
      Eventually.until(Duration.ofSeconds(10), "the breaker change noted", () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.events "
          + "WHERE kind = 'config.applied' AND message LIKE '%breaker: (unset) -> {\"failures\":5} (applies at the next restart%'") == 1);
      assertEquals(1, agent.configStatus().getJsonArray("pendingRestart").size(), agent.configStatus().encode());
      Eventually.until(Duration.ofSeconds(90), "every segment verified", () -> pg.scalar(tgt,
          "SELECT (count(*) FILTER (WHERE state <> 'verified') = 0)::int FROM sluice.segments WHERE job = 'items'") == 1);
      assertEquals(20000, Tables.assertSameRows(pg, src, ROW, tgt, ROW));

      // Change capture maps keys to segments by key order, not seq order: changes everywhere still arrive.
      pg.exec(src, "UPDATE items SET name = name || ' changed' WHERE id % 999 = 0", "DELETE FROM items WHERE id % 2001 = 0",
          "INSERT INTO items VALUES (1, 'first'), (60001, 'last')");
      Eventually.until(Duration.ofSeconds(10), "captured changes applied", () -> same(src, tgt));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  private long count(String tgt, String where) {
    return pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND " + where);
  }

  private String range(String tgt, int seq) {
    return pg.string(tgt, "SELECT row(lower_bound, upper_bound)::text FROM sluice.segments WHERE job = 'items' AND seq = " + seq);
  }

  /** The segments, in key order, cover every key once: one open start, one open end, each upper bound the next lower. */
  private void assertTiles(String tgt) {
    List<String> bad = pg.strings(tgt, "SELECT row(seq, lower_bound, upper_bound, next)::text FROM (SELECT seq, lower_bound, "
        + "upper_bound, lead(lower_bound) OVER (ORDER BY lower_bound[1]::bigint NULLS FIRST) next, "
        + "row_number() OVER (ORDER BY lower_bound[1]::bigint NULLS FIRST) n, count(*) OVER () total "
        + "FROM sluice.segments WHERE job = 'items') s "
        + "WHERE (n = 1 AND lower_bound IS NOT NULL) OR (n = total AND upper_bound IS NOT NULL) "
        + "OR (n < total AND upper_bound IS DISTINCT FROM next)");
    assertTrue(bad.isEmpty(), "segments do not tile the key space: " + bad);
  }

  private boolean same(String src, String tgt) {
    try {
      Tables.assertSameRows(pg, src, ROW, tgt, ROW);
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }
}
