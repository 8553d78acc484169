package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Keys PostgreSQL canonicalises: a numeric(10,2) key asked as {@code 1.5} is the row {@code 1.50},
 * under the canonical text the column prints (what the change applier announces), and a malformed
 * key is a 400 with PostgreSQL's reason.
 */
class KeyCanonicalTest {
  private final TestPg pg = TestPg.get();

  @Test
  void numericKeysAreCanonicalAsTheColumnPrintsThem() {
    String src = pg.createDatabase("src");
    String tgt = pg.createDatabase("tgt");
    pg.exec(src, "CREATE TABLE prices (code numeric(10,2) PRIMARY KEY, label text)",
        "INSERT INTO prices SELECT g / 2.0, 'p' || g FROM generate_series(1, 200) g");
    Agent agent = Agents.start(ReadTests.config(pg, src, tgt, """
        {"name": "prices", "source": {"table": "public.prices", "key": ["code"]},
         "target": {"table": "public.prices", "create": true}, "capture": {"enabled": false},
         "reads": {"targetPercent": 100}}"""));
    try {
      ReadClient client = new ReadClient(agent.httpPort(), ReadTests.READ_TOKEN);
      ReadTests.awaitVerified(pg, tgt, "prices");
      JsonArray rows = client.batchGet("prices", new JsonArray().add("1.5").add(1.5).add("001.50").add("1.505"));
      for (int i = 0; i < 3; i++) {
        JsonObject r = rows.getJsonObject(i);
        assertEquals("1.50", r.getString("key"), r.encode());
        assertEquals(Cohort.of("1.50"), r.getInteger("cohort"));
        assertEquals("p3", r.getJsonObject("row").getString("label"), r.encode());
      }
      assertEquals(null, rows.getJsonObject(3).getJsonObject("row"), "1.505 is no key of a numeric(10,2) column, not 1.51's row");
      ReadClient.Response one = client.get("prices", List.of("1.5"));
      assertEquals(200, one.status());
      SegmentCache cache = agent.reads().get("prices").cache();
      assertEquals("{\"code\":1.50,\"label\":\"p3\"}", cache.get("1.50"), "cached under the column's text");
      assertEquals(null, cache.get("1.5"));
      ReadClient.Response bad = client.get("prices", List.of("abc"));
      assertEquals(400, bad.status());
      assertEquals(true, bad.json().getString("error").contains("numeric"), bad.body());
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
