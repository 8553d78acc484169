package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Whole migrations of 100k-row tables, one per key shape, each ending in a row-by-row comparison. */
class KeyTypesMigrationTest {
  private final TestPg pg = TestPg.get();

  private String config(String src, String tgt, String job) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "jobs": [%s]}""".formatted(pg.url(src), pg.url(tgt), job);
  }

  @Test
  void bigintKey() {
    String src = pg.createDatabase("src");
    String tgt = pg.createDatabase("tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g * 3, 'item ' || g, g % 100 FROM generate_series(1, 100000) g");
    Map<String, JobState> states = Agents.runUntilDone(config(src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": 20000}, "batch": {"rows": 5000}, "concurrency": {"max": 3}}"""));
    assertEquals(JobState.COMPLETED, states.get("items"));
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    assertEquals(100_000, n);
    assertEquals(5, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'"));
  }
}
