package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A 4 MiB cache over a 100,000-row table (about 40 MB of rows as the cache would hold them): warming
 * and reading every row keep the cache within its bound, by Caffeine's own weighted size, and the
 * heap does not grow with the table.
 */
class CacheBoundTest {
  private static final long MAX_BYTES = 4L * 1024 * 1024;
  private static final int ROWS = 100_000;
  private final TestPg pg = TestPg.get();

  @Test
  void cacheStaysWithinItsBoundAndHeapStaysFlat() {
    String src = pg.createDatabase("src");
    String tgt = pg.createDatabase("tgt");
    pg.exec(src, "CREATE TABLE docs (id bigint PRIMARY KEY, body text)",
        "INSERT INTO docs SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, " + ROWS + ") g");
    Agent agent = Agents.start(ReadTests.config(pg, src, tgt, """
        {"name": "docs", "source": {"table": "public.docs", "key": ["id"]},
         "target": {"table": "public.docs", "create": true},
         "segment": {"rows": 34000}, "batch": {"rows": 5000}, "capture": {"enabled": false},
         "cache": {"maxBytes": %d, "maxEntries": 1000000, "warmRowsPerSecond": 1000000, "warmBatchRows": 2000},
         "reads": {"targetPercent": 100, "batchMax": 1000}}""".formatted(MAX_BYTES)));
    try {
      ReadClient client = new ReadClient(agent.httpPort(), ReadTests.READ_TOKEN);
      ReadTests.awaitVerified(pg, tgt, "docs");
      SegmentCache cache = agent.reads().get("docs").cache();
      ReadTests.await("warming to fill the cache", 60, cache::nearlyFull);
      long baseline = heapAfterGc();

      long read = 0;
      for (int start = 1; start <= ROWS; start += 1000) {
        JsonArray keys = new JsonArray();
        for (int k = start; k < start + 1000; k++) keys.add(k);
        read += client.batchGet("docs", keys).size();
        assertTrue(cache.weightedSize() <= MAX_BYTES, "weight " + cache.weightedSize() + " after " + read + " reads");
      }
      assertEquals(ROWS, read);
      long grown = heapAfterGc() - baseline;

      cache.caffeine().cleanUp();
      long weight = cache.weightedSize();
      assertTrue(weight <= MAX_BYTES && weight > MAX_BYTES / 2, "weighted size " + weight + " of " + MAX_BYTES);
      // Every entry holds at least its 256-character body and the entry overhead.
      assertTrue(cache.size() <= MAX_BYTES / (SegmentCache.ENTRY_OVERHEAD_BYTES + 256), cache.size() + " entries");
      assertTrue(cache.stats().evictionCount() > ROWS / 2, "evictions " + cache.stats().evictionCount());
      // Unbounded, the rows read would hold about 100,000 * 410 bytes = 39 MiB more.
      assertTrue(grown < 12L * 1024 * 1024, "heap grew by " + grown / 1024 + " KiB reading " + ROWS + " rows through the cache");
      System.out.printf("cache bound test: %d entries, weight %d of %d bytes, evictions %d, heap growth %d KiB%n", cache.size(), weight,
          MAX_BYTES, cache.stats().evictionCount(), grown / 1024);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
