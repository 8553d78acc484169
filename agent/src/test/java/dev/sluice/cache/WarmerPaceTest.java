package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cache warmer keeps the pace asked for ({@code cache.warmRowsPerSecond}): 8,000 rows in 40
 * segments of 200, warmed in batches of up to 1,000 at 2,000 rows/s, take about (8,000 - 200 - a burst
 * of 1,000) / 2,000 = 3.4 s from the first row warmed to the last. Charging each batch its size up
 * front, every segment's one (short) batch as 1,000 rows, took 39,000 - 1,000 rows' worth: 19 s or more.
 */
class WarmerPaceTest {
  private final TestPg pg = TestPg.get();

  @Test
  void warmingKeepsThePaceAskedFor() throws Exception {
    String src = pg.createDatabase("wp_src");
    String tgt = pg.createDatabase("wp_tgt");
    pg.exec(src, "CREATE TABLE docs (id bigint PRIMARY KEY, body text)",
        "INSERT INTO docs SELECT g, 'doc ' || g FROM generate_series(1, 8000) g");
    Agent agent = Agents.start(ReadTests.config(pg, src, tgt, "{\"foreground\": {\"enabled\": false}}", """
        {"name": "docs", "source": {"table": "public.docs", "key": ["id"]}, "target": {"table": "public.docs", "create": true},
         "segment": {"rows": 200}, "capture": {"enabled": false},
         "cache": {"maxEntries": 1000000, "warmRowsPerSecond": 2000, "warmBatchRows": 1000}}"""));
    try {
      ReadStats stats = agent.reads().get("docs").router().stats();
      ReadTests.await("the first rows warmed", 60, () -> stats.warmedRows() > 0);
      long t0 = System.nanoTime();
      ReadTests.await("every row warmed", 60, () -> stats.warmedRows() >= 8000);
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertEquals(8000, stats.warmedRows());
      assertTrue(pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'docs'") >= 30, "segments shorter than a batch");
      assertTrue(seconds >= 3.0, "paced: " + seconds + " s");
      assertTrue(seconds < 13.0, "at the pace asked for, not a fraction of it: " + seconds + " s");
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
