package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.JobConfig;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Cohort routing over 10,000 keys, the share changed live, the headers, tokens and errors. */
class ReadRoutingTest {
  private final TestPg pg = TestPg.get();

  @Test
  void shareServedFromTargetFollowsTargetPercent() {
    String src = pg.createDatabase("src");
    String tgt = pg.createDatabase("tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 10000) g");
    String job = """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": 2500}, "batch": {"rows": 2500},
         "cache": {"warm": "first", "warmFirstRows": 100, "warmRowsPerSecond": 100000, "warmBatchRows": 60},
         "reads": {"targetPercent": %d, "batchMax": 500}}""";
    Agent agent = Agents.start(ReadTests.config(pg, src, tgt, job.formatted(30)));
    try {
      ReadClient client = new ReadClient(agent.httpPort(), ReadTests.READ_TOKEN);
      ReadTests.awaitVerified(pg, tgt, "items");
      // Warming loaded the first 100 rows of each of the 4 segments, in two batches each.
      ReadTests.await("warming", 20, () -> client.status("items").getLong("warmedRows") >= 400);
      assertEquals(400, client.status("items").getLong("warmedRows"));
      assertEquals(400, agent.reads().get("items").cache().size());

      assertEquals(30.0, shareFromTarget(client), 2.0);
      // Twice: the second pass is served by the cache (warmed, or filled by the first pass).
      JsonArray again = client.batchGet("items", new JsonArray().add(1).add(2).add(3).add(4).add(5).add(6).add(7).add(8).add(9).add(10));
      long fromCache = again.stream().map(o -> ((JsonObject) o).getString("servedFrom")).filter("cache"::equals).count();
      long fromTarget = again.stream().map(o -> ((JsonObject) o).getString("servedFrom")).filter("target"::equals).count();
      assertEquals(0, fromTarget, "verified rows already read once come from the cache: " + again.encode());
      assertTrue(fromCache > 0, again.encode());

      assertEquals(200, client.setTargetPercent("items", 70, ReadTests.CONTROL_TOKEN).status());
      assertEquals(70.0, shareFromTarget(client), 2.0);
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'reads.target_percent' "
          + "AND message LIKE '%from 30% to 70%'"));

      // One key: the row as JSON, where it came from in a header; a missing row is a 404.
      ReadClient.Response one = client.get("items", List.of("0042"));
      assertEquals(200, one.status());
      assertEquals(new JsonObject().put("id", 42).put("name", "item 42").put("qty", 42), one.json());
      assertNotNull(one.servedFrom());
      assertEquals(404, client.get("items", List.of("99999")).status());
      assertEquals(400, client.get("items", List.of("not-a-number")).status());
      assertEquals(400, client.get("items", List.of("1", "2")).status());
      assertEquals(404, client.raw("/api/jobs/nope/rows/1", ReadTests.READ_TOKEN).status());
      JsonArray tooMany = new JsonArray();
      for (int k = 0; k <= 500; k++) tooMany.add(k);
      String batch = "/api/jobs/items/rows:batchGet";
      assertEquals(400, client.post(batch, new JsonObject().put("keys", tooMany).encode(), ReadTests.READ_TOKEN).status());
      assertEquals(400, client.post(batch, "{\"keys\": [1,", ReadTests.READ_TOKEN).status());
      assertEquals(400, client.post(batch, "{\"keys\": [{\"id\": 1}]}", ReadTests.READ_TOKEN).status());
      assertEquals(401, client.post(batch, "{\"keys\": [1]}", null).status());

      // Tokens: reads need the read token; the rollout needs the control token, not the read token.
      assertEquals(401, new ReadClient(agent.httpPort(), null).get("items", List.of("1")).status());
      assertEquals(401, new ReadClient(agent.httpPort(), "wrong-token-0123456789").get("items", List.of("1")).status());
      assertEquals(401, client.setTargetPercent("items", 100, ReadTests.READ_TOKEN).status());
      assertEquals(400, client.setTargetPercent("items", 101, ReadTests.CONTROL_TOKEN).status());

      // Meters: reads by where they were served from, the cache's statistics and weight.
      String metrics = client.raw("/metrics", null).body();
      assertTrue(metrics.contains("sluice_reads_served_total{from=\"target\",sluice_job=\"items\"}"), metrics);
      assertTrue(metrics.contains("sluice_cache_weight_bytes{sluice_job=\"items\"}"), metrics);
      assertTrue(metrics.contains("cache_gets_total{cache=\"sluice.cache\",result=\"hit\",sluice_job=\"items\"}"), metrics);
      var stats = agent.reads().get("items").cache().stats();
      assertTrue(stats.loadSuccessCount() > 0 && stats.totalLoadTime() > 0, "loads from the target are timed: " + stats);

      // A config reload that changes the share puts it in force and records it.
      JobConfig reloaded = ConfigLoader.parse(ReadTests.config(pg, src, tgt, job.formatted(0))).jobs().get(0);
      agent.reads().get("items").applyConfig(reloaded);
      assertEquals(0.0, shareFromTarget(client), 0.0);
      ReadTests.await("the reload's audit event", 10, () -> pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' "
          + "AND kind = 'reads.target_percent' AND message LIKE '%from 70% to 0%by a config reload'") == 1);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  /** Percentage of the 10,000 keys served from the target (cache or table), read in batches. */
  private static double shareFromTarget(ReadClient client) {
    int fromTarget = 0;
    int found = 0;
    for (int start = 1; start <= 10_000; start += 500) {
      JsonArray keys = new JsonArray();
      for (int k = start; k < start + 500; k++) keys.add(Integer.toString(k));
      JsonArray rows = client.batchGet("items", keys);
      assertEquals(500, rows.size());
      for (int i = 0; i < rows.size(); i++) {
        JsonObject r = rows.getJsonObject(i);
        assertEquals(keys.getString(i), r.getString("key"));
        assertEquals(Cohort.of(r.getString("key")), r.getInteger("cohort"));
        if (r.getJsonObject("row") != null) found++;
        if (!"source".equals(r.getString("servedFrom"))) fromTarget++;
      }
    }
    assertEquals(10_000, found, "every key has its row");
    return fromTarget / 100.0;
  }
}
