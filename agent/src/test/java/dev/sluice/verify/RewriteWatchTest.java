package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which DDL gives a table new files, as the drift monitor and the final pass see it. */
class RewriteWatchTest {
  private final TestPg pg = TestPg.get();

  @Test
  void rewritesAndTruncatesOfEitherTableOrOfAPartitionAreSeenRowChangesAreNot() {
    String src = pg.createDatabase("rw_src");
    String tgt = pg.createDatabase("rw_tgt");
    pg.exec(src, "CREATE TABLE items (id int PRIMARY KEY, v int, note text) PARTITION BY RANGE (id)",
        "CREATE TABLE items_a PARTITION OF items FOR VALUES FROM (0) TO (100)",
        "CREATE TABLE items_b PARTITION OF items FOR VALUES FROM (100) TO (200)",
        "INSERT INTO items SELECT g, g, 'n' FROM generate_series(0, 199) g");
    pg.exec(tgt, "CREATE TABLE items (id int PRIMARY KEY, v int, note text)", "INSERT INTO items SELECT g, g, 'n' FROM generate_series(0, 199) g");
    SluiceConfig config = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    JobShape shape = new JobShape(config.jobs().get(0), List.of(new JobShape.Column("id", "\"id\"", "integer", true)), List.of("id"),
        List.of("id"), List.of("integer"), true, 200, true);
    Vertx vertx = Vertx.vertx();
    Pool source = Databases.pool(vertx, config.source(), "sluice-source", 1);
    Pool target = Databases.pool(vertx, config.target(), "sluice-target", 1);
    try {
      RewriteWatch watch = new RewriteWatch(shape, source, target);
      RewriteWatch.Files start = Await.result(watch.now());
      assertEquals(2, start.source().split(",").length, "both partitions' files: " + start);
      pg.exec(src, "UPDATE items SET v = v + 1", "DELETE FROM items WHERE id < 10", "ALTER TABLE items ADD COLUMN extra int",
          "ALTER TABLE items DROP COLUMN note", "ALTER TABLE items ALTER COLUMN v TYPE integer");
      pg.exec(tgt, "INSERT INTO items VALUES (500, 1, 'x')", "VACUUM items");
      assertEquals(List.of(), watch.changes(start, Await.result(watch.now())), "row changes, no-rewrite DDL and a plain VACUUM");

      pg.exec(src, "TRUNCATE items_b");
      List<String> truncated = watch.changes(start, Await.result(watch.now()));
      assertEquals(1, truncated.size(), truncated.toString());
      assertTrue(truncated.get(0).startsWith("source table public.items was rewritten or truncated (relfilenode " + start.source() + " -> "),
          truncated.get(0));

      for (String ddl : List.of("ALTER TABLE items ALTER COLUMN v TYPE bigint", "ALTER TABLE items ALTER COLUMN v TYPE bigint USING v + 1",
          "VACUUM FULL items", "CLUSTER items USING items_pkey", "TRUNCATE items")) {
        RewriteWatch.Files before = Await.result(watch.now());
        pg.exec(tgt, ddl);
        List<String> changes = watch.changes(before, Await.result(watch.now()));
        assertEquals(1, changes.size(), ddl + ": " + changes);
        assertTrue(changes.get(0).startsWith("target table public.items was rewritten or truncated"), ddl + ": " + changes);
      }
      RewriteWatch.Files before = Await.result(watch.now());
      pg.exec(tgt, "DROP TABLE items");
      assertTrue(watch.changes(before, Await.result(watch.now())).get(0).endsWith(" -> none)"));
    } finally {
      Await.result(vertx.close());
    }
  }
}
