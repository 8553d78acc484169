package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The cache never serves a row older than the target, with readers racing the writes: the test plays
 * a change applier (announce the key, write the target row) while another thread keeps reading the same
 * hot keys through the API, so read-through puts race every invalidation. After each write, a read
 * returns the new value; at the end, every hot key read through the API equals the target.
 */
class CacheInvalidationTest {
  private final TestPg pg = TestPg.get();

  @Test
  void readsNeverReturnAnOverwrittenRow() throws Exception {
    String src = pg.createDatabase("src");
    String tgt = pg.createDatabase("tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, 0 FROM generate_series(1, 2000) g");
    // No final pass: the test writes the target behind Sluice's back (as an applier would, without capture), which a
    // plain copy's final pass rightly reports as a target changed since it was verified, parking the segment.
    Agent agent = Agents.start(ReadTests.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": 1000}, "capture": {"enabled": false}, "verify": {"finalPass": false},
         "cache": {"warmRowsPerSecond": 100000},
         "reads": {"targetPercent": 100}}"""));
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong raced = new AtomicLong();
    try {
      ReadClient client = new ReadClient(agent.httpPort(), ReadTests.READ_TOKEN);
      ReadTests.awaitVerified(pg, tgt, "items");
      JobReads reads = agent.reads().get("items");
      int hot = 16;
      JsonArray hotKeys = new JsonArray();
      for (int k = 1; k <= hot; k++) hotKeys.add(k * 100);
      // The ledger says verified a moment before this agent's read path has taken it in (its segment
      // watch reads the ledger after the verification): until then a hot key is still read from the source.
      ReadTests.await("the read path to see the hot keys' segments verified", 30, () -> {
        JsonArray rows = client.batchGet("items", hotKeys);
        for (int i = 0; i < rows.size(); i++) {
          if ("source".equals(rows.getJsonObject(i).getString("servedFrom"))) return false;
        }
        return true;
      });
      Runnable reader = () -> {
        while (!done.get()) {
          client.batchGet("items", hotKeys);
          raced.incrementAndGet();
        }
      };
      Thread r1 = new Thread(reader);
      r1.start();
      // As in a migration: the user writes the source, then the applier announces the key and writes the
      // target. Every route (cache, target, or the source a target that cannot answer in time falls back
      // to) must then serve the new value.
      try (Connection s = pg.connect(src); PreparedStatement user = s.prepareStatement("UPDATE items SET qty = ? WHERE id = ?");
           Connection c = pg.connect(tgt); PreparedStatement up = c.prepareStatement("UPDATE items SET qty = ? WHERE id = ?")) {
        for (int i = 1; i <= 400; i++) {
          long key = (ThreadLocalRandom.current().nextInt(hot) + 1) * 100L;
          user.setInt(1, i);
          user.setLong(2, key);
          assertEquals(1, user.executeUpdate());
          reads.writing(List.of(List.of(Long.toString(key)))); // as the applier: announce, then write
          up.setInt(1, i);
          up.setLong(2, key);
          assertEquals(1, up.executeUpdate());
          ReadClient.Response r = client.get("items", List.of(Long.toString(key)));
          assertEquals(200, r.status());
          assertEquals(i, r.json().getInteger("qty"), "write " + i + " of key " + key + " read back from " + r.servedFrom());
        }
      }
      reads.writing(List.of()); // the last batch is written: its keys may be cached again
      done.set(true);
      r1.join();
      assertTrue(raced.get() > 50, "the readers raced the writes: " + raced.get() + " batches");
      for (int pass = 0; pass < 2; pass++) {
        JsonArray rows = client.batchGet("items", hotKeys);
        for (int i = 0; i < rows.size(); i++) {
          JsonObject row = rows.getJsonObject(i).getJsonObject("row");
          long expected = pg.scalar(tgt, "SELECT qty FROM items WHERE id = " + row.getLong("id"));
          assertEquals(expected, row.getLong("qty"), "key " + row.getLong("id") + " from " + rows.getJsonObject(i).getString("servedFrom"));
        }
      }
      assertTrue(reads.cache().stats().hitCount() > 0, "the cache served hot keys meanwhile");
    } finally {
      done.set(true);
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
