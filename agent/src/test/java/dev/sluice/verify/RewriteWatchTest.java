package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Which DDL gives a table new files, as the drift monitor and the final pass see it. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class RewriteWatchTest {
  private final TestPg pg = TestPg.get();

  /** The changes the watch sees across {@code sql} run on {@code db} (blocking JDBC, on a worker). */
  private Future<List<String>> changesAcross(Vertx vertx, RewriteWatch watch, String db, String... sql) {
    return watch.now().compose(before -> Async.blocking(vertx, () -> pg.exec(db, sql))
        .compose(v -> watch.now())
        .map(after -> watch.changes(before, after)));
  }

  @Test
  void rewritesAndTruncatesOfEitherTableOrOfAPartitionAreSeenRowChangesAreNot(Vertx vertx, VertxTestContext ctx) {
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
    Pool source = Databases.pool(vertx, config.source(), "sluice-source", 1);
    Pool target = Databases.pool(vertx, config.target(), "sluice-target", 1);
    RewriteWatch watch = new RewriteWatch(shape, source, target);
    watch.now()
        .compose(start -> {
          ctx.verify(() -> assertEquals(2, start.source().split(",").length, "both partitions' files: " + start));
          return Async.blocking(vertx, () -> {
            pg.exec(src, "UPDATE items SET v = v + 1", "DELETE FROM items WHERE id < 10", "ALTER TABLE items ADD COLUMN extra int",
                "ALTER TABLE items DROP COLUMN note", "ALTER TABLE items ALTER COLUMN v TYPE integer");
            pg.exec(tgt, "INSERT INTO items VALUES (500, 1, 'x')", "VACUUM items");
          }).compose(v -> watch.now()).compose(now -> {
            ctx.verify(() -> assertEquals(List.of(), watch.changes(start, now), "row changes, no-rewrite DDL and a plain VACUUM"));
            return Async.blocking(vertx, () -> pg.exec(src, "TRUNCATE items_b"));
          }).compose(v -> watch.now()).map(now -> {
            ctx.verify(() -> {
              List<String> truncated = watch.changes(start, now);
              assertEquals(1, truncated.size(), truncated.toString());
              assertTrue(truncated.get(0).startsWith("source table public.items was rewritten or truncated (relfilenode " + start.source()
                  + " -> "), truncated.get(0));
            });
            return null;
          });
        })
        .compose(v -> {
          Future<Void> chain = Future.succeededFuture();
          for (String ddl : List.of("ALTER TABLE items ALTER COLUMN v TYPE bigint", "ALTER TABLE items ALTER COLUMN v TYPE bigint USING v + 1",
              "VACUUM FULL items", "CLUSTER items USING items_pkey", "TRUNCATE items")) {
            chain = chain.compose(x -> changesAcross(vertx, watch, tgt, ddl)).map(changes -> {
              ctx.verify(() -> {
                assertEquals(1, changes.size(), ddl + ": " + changes);
                assertTrue(changes.get(0).startsWith("target table public.items was rewritten or truncated"), ddl + ": " + changes);
              });
              return null;
            });
          }
          return chain;
        })
        .compose(v -> changesAcross(vertx, watch, tgt, "DROP TABLE items"))
        .eventually(() -> Future.join(source.close(), target.close()))
        .onComplete(ctx.succeeding(changes -> ctx.verify(() -> {
          assertTrue(changes.get(0).endsWith(" -> none)"));
          ctx.completeNow();
        })));
  }
}
