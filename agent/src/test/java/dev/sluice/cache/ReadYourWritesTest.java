package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * During a migration with change capture, a writer on the source updates and deletes hot keys while a
 * reader keeps them in the cache. After each round of writes has been applied (its changelog entries
 * are gone), every written key read through the API returns the new value or its absence, never the
 * old row: 1,000 writes checked.
 */
class ReadYourWritesTest {
  private static final int WRITES = 1_000;
  private static final int ROUND = 20;
  private final TestPg pg = TestPg.get();

  @Test
  void everyAppliedWriteIsReadBack() throws Exception {
    String src = pg.createDatabase("src");
    String tgt = pg.createDatabase("tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, 0 FROM generate_series(1, 20000) g");
    // Foreground control off: on a loaded host its probe noise slows the applier to 2% and the rounds time out, which is not what this tests.
    Agent agent = Agents.start(ReadTests.config(pg, src, tgt, "{\"foreground\": {\"enabled\": false}}", """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": 2000}, "batch": {"rows": 1000}, "concurrency": {"max": 2}, "pace": {"rowsPerSecond": 5000},
         "capture": {"batchRows": 500, "pollMs": 50, "inSyncRows": 0},
         "cache": {"warmRowsPerSecond": 100000},
         "reads": {"targetPercent": 100, "batchMax": 500}}"""));
    AtomicBoolean done = new AtomicBoolean();
    JsonArray hot = new JsonArray();
    for (int k = 1; k <= 400; k++) hot.add(k * 50);
    ReadClient client = new ReadClient(agent.httpPort(), ReadTests.READ_TOKEN);
    AtomicLong readerBatches = new AtomicLong();
    Thread reader = new Thread(() -> {
      while (!done.get()) {
        client.batchGet("items", hot);
        readerBatches.incrementAndGet();
      }
    }, "test-reader");
    Map<String, Integer> servedFrom = new HashMap<>();
    try {
      reader.start();
      SplittableRandom rnd = new SplittableRandom(7);
      try (Connection c = pg.connect(src);
          PreparedStatement upsert = c.prepareStatement("INSERT INTO items VALUES (?, 'item', ?) ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty");
          PreparedStatement delete = c.prepareStatement("DELETE FROM items WHERE id = ?")) {
        for (int w = 1; w <= WRITES; ) {
          Map<Long, Integer> expected = new HashMap<>(); // key -> qty written, null when deleted
          Set<Long> keys = new LinkedHashSet<>();
          for (int i = 0; i < ROUND; i++, w++) {
            long key = (rnd.nextInt(400) + 1) * 50L;
            keys.add(key);
            if (w % 10 == 0) {
              delete.setLong(1, key);
              delete.executeUpdate();
              expected.put(key, null);
            } else {
              upsert.setLong(1, key);
              upsert.setInt(2, w);
              upsert.executeUpdate();
              expected.put(key, w);
            }
          }
          awaitApplied(src, keys);
          List<Long> ordered = new ArrayList<>(keys);
          JsonArray ask = new JsonArray();
          ordered.forEach(ask::add);
          JsonArray rows = client.batchGet("items", ask);
          for (int i = 0; i < ordered.size(); i++) {
            JsonObject r = rows.getJsonObject(i);
            servedFrom.merge(r.getString("servedFrom"), 1, Integer::sum);
            Integer want = expected.get(ordered.get(i));
            if (want == null) {
              assertNull(r.getJsonObject("row"), "key " + ordered.get(i) + " was deleted; got " + r.encode());
            } else {
              assertEquals(want, r.getJsonObject("row").getInteger("qty"), "key " + ordered.get(i) + " after write " + want + ": " + r.encode());
            }
          }
        }
      }
      done.set(true);
      reader.join();
      int fromTarget = servedFrom.getOrDefault("cache", 0) + servedFrom.getOrDefault("target", 0);
      assertTrue(fromTarget > WRITES / 2, "most checks were served by the target side: " + servedFrom);
      assertTrue(readerBatches.get() > 20, "the reader kept the hot keys cached: " + readerBatches.get() + " batches");
      assertTrue(agent.reads().get("items").cache().stats().hitCount() > 1000, "cache hits: " + agent.reads().get("items").cache().stats());
      System.out.println("read-your-writes: checks served from " + servedFrom + ", reader batches " + readerBatches.get());
    } finally {
      done.set(true);
      reader.join();
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  /** Waits until the applier has applied (and removed from the changelog) every change to these keys. */
  private void awaitApplied(String src, Set<Long> keys) {
    String list = keys.stream().map(k -> "'" + k + "'").reduce((a, b) -> a + "," + b).orElseThrow();
    ReadTests.await("the applier to apply keys " + keys, 60,
        () -> pg.scalar(src, "SELECT count(*) FROM sluice.changes_items WHERE key[1] IN (" + list + ")") == 0);
  }
}
