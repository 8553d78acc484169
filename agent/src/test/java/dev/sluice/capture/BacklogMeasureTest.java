package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Validation;
import dev.sluice.config.ConfigLoader;
import dev.sluice.db.Databases;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The applier's backlog measure, once a second while it runs: the entries counted up to the cap, the
 * age of the oldest, and what it reads for that age (one look into the changelog's key index, not
 * the whole changelog a second time).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class BacklogMeasureTest {
  private final TestPg pg = TestPg.get();

  @Test
  void countsUpToTheCapAndAgesTheOldestEntryByAnIndexLookup(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("bl_src");
    String tgt = pg.createDatabase("bl_tgt");
    pg.exec(src, "CREATE TABLE t (id int PRIMARY KEY, v text)");
    pg.exec(tgt, "CREATE TABLE t (id int PRIMARY KEY, v text)");
    var cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "bl", "source": {"table": "public.t", "key": ["id"]}, "target": {"table": "public.t"}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    Pool source = Databases.pool(vertx, cfg.source(), "sluice-test", 2);
    vertx.executeBlocking(() -> Validation.check(vertx, cfg), false).map(shapes -> new CaptureSql(shapes.get(0)))
        .compose(sql -> Async.blocking(vertx, () -> {
          pg.exec(src, sql.installObjects().toArray(new String[0]));
          // 5,000 entries recorded over the last minute, the first 60 s ago; statistics as after a large burst.
          pg.exec(src, "INSERT INTO " + sql.changelog() + " (key, at) SELECT ARRAY[g::text], clock_timestamp() - interval '60 s' "
              + "+ g * interval '10 ms' FROM generate_series(0, 4999) g", "ANALYZE " + sql.changelog());
          return sql;
        }))
        .compose(sql -> source.preparedQuery(sql.backlog()).execute(Tuple.of(10_000_000L))
            .compose(all -> source.preparedQuery(sql.backlog()).execute(Tuple.of(1_000L)).map(capped -> List.of(all, capped)))
            .compose(results -> source.preparedQuery("EXPLAIN " + sql.backlog()).execute(Tuple.of(10_000_000L)).map(plan -> {
              List<String> lines = new ArrayList<>();
              for (Row r : plan) lines.add(r.getString(0));
              Row all = results.get(0).iterator().next();
              Row capped = results.get(1).iterator().next();
              ctx.verify(() -> {
                assertEquals(5_000L, all.getLong(0));
                assertEquals(1_000L, capped.getLong(0), "counted up to the cap only");
                long age = all.getLong(1);
                assertTrue(age >= 60_000 && age < 120_000, "the oldest entry is 60 s old: " + age + " ms");
                String text = String.join("\n", lines);
                assertTrue(text.contains("Index Scan") && text.contains("_pkey"), "the oldest is found in the key index:\n" + text);
                assertTrue(lines.stream().filter(l -> l.contains("Seq Scan")).count() <= 1,
                    "at most one scan of the changelog (the count), not a second one for the age:\n" + text);
              });
              return null;
            })))
        .onComplete(ctx.succeeding(v -> source.close().onComplete(x -> ctx.completeNow())));
  }
}
