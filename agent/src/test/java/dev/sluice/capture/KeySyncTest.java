package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.sluice.agent.Validation;
import dev.sluice.config.ConfigLoader;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.LedgerSchema;
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

/**
 * Keys made equal to the source: composite keys with awkward text, a row filter (a row that stops
 * matching is deleted), a column expression, one key spelled two ways, keys that are gone, and the
 * fence (nothing is written once the job no longer writes).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class KeySyncTest {
  private final TestPg pg = TestPg.get();

  @Test
  void keysConvergeOnTheSourcesCurrentRows(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("ks_src");
    String tgt = pg.createDatabase("ks_tgt");
    pg.exec(src, "CREATE TABLE t (a int, b text, at timestamptz, v numeric, live boolean NOT NULL, PRIMARY KEY (a, b))",
        "INSERT INTO t VALUES (1, 'x,y \"q\" \\ {z}', '2024-01-01 00:00:00+00', 1.5, true), (2, 'ünï', '2024-01-02 00:00:00+00', 2, true), "
            + "(3, 'gone', '2024-01-03 00:00:00+00', 3, true), (4, 'filtered', '2024-01-04 00:00:00+00', 4, false)");
    pg.exec(tgt, "CREATE TABLE t (a int, b text, at timestamptz, v2 numeric, PRIMARY KEY (a, b))",
        "INSERT INTO t VALUES (1, 'x,y \"q\" \\ {z}', '2020-01-01 00:00:00+00', 0), (3, 'gone', '2024-01-03 00:00:00+00', 6), "
            + "(4, 'filtered', '2024-01-04 00:00:00+00', 8)");
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "ks", "source": {"table": "public.t", "key": ["a", "b"], "where": "live"},
                   "target": {"table": "public.t"},
                   "columns": {"a": "a", "b": "b", "at": "at", "v2": "v * 2"}}]}""".formatted(pg.url(src), pg.url(tgt));
    var cfg = ConfigLoader.parse(config);
    var zcfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "ks", "source": {"table": "public.z", "key": ["at"]}, "target": {"table": "public.z"}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    Pool source = Databases.pool(vertx, cfg.source(), "sluice-test", 2);
    Pool target = Databases.pool(vertx, cfg.target(), "sluice-test", 2);
    vertx.executeBlocking(() -> Validation.check(vertx, cfg), false)
        .compose(shapes -> LedgerSchema.ensure(target).compose(v -> Async.blocking(vertx, () -> {
          pg.exec(tgt, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
              + "VALUES ('ks', 'catching_up', 'public.t', 'public.t', '{a,b}', '{integer,text}')");
          pg.exec(src, "DELETE FROM t WHERE a = 3");
        })).map(v -> new KeySync(shapes.get(0), source, target)))
        .compose(sync -> sync.sync(List.of(List.of("1", "x,y \"q\" \\ {z}"), List.of("2", "ünï"), List.of("3", "gone"),
                List.of("4", "filtered"), List.of("5", "never there"), List.of("2", "ünï")))
            .compose(r -> {
              ctx.verify(() -> {
                assertEquals(2, r.upserted(), "rows 1 and 2 written (the key given twice is written once)");
                assertEquals(2, r.deleted(), "row 3 (deleted at the source) and row 4 (no longer matching the filter) removed");
              });
              return Async.blocking(vertx, () -> pg.strings(tgt,
                  "SELECT a || '|' || b || '|' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '|' || v2 FROM t ORDER BY a"));
            })
            .map(rows -> {
              ctx.verify(() -> assertEquals(List.of("1|x,y \"q\" \\ {z}|2024-01-01 00:00:00|3.0", "2|ünï|2024-01-02 00:00:00|4"), rows));
              return sync;
            }))
        // A timestamptz key spelled in two time zones is one key: read once, written once.
        .compose(sync -> Async.blocking(vertx, () -> {
          pg.exec(src, "CREATE TABLE z (at timestamptz PRIMARY KEY, n int)", "INSERT INTO z VALUES ('2024-05-01 12:00:00+00', 7)");
          pg.exec(tgt, "CREATE TABLE z (at timestamptz PRIMARY KEY, n int)");
        })
            .compose(v -> vertx.executeBlocking(() -> Validation.check(vertx, zcfg), false))
            .compose(z -> new KeySync(z.get(0), source, target).sync(List.of(List.of("2024-05-01 12:00:00+00"),
                List.of("2024-05-01 14:00:00+02"))))
            .compose(zr -> {
              ctx.verify(() -> assertEquals(1, zr.upserted()));
              return Async.scalar(target, "SELECT count(*) FROM z");
            })
            .compose(n -> {
              ctx.verify(() -> assertEquals(1L, n));
              // Rolled back: nothing more is written.
              return Async.blocking(vertx, () -> {
                pg.exec(tgt, "UPDATE sluice.jobs SET state = 'rolling_back'");
                pg.exec(src, "UPDATE t SET v = 100 WHERE a = 2");
              });
            })
            .compose(v -> sync.sync(List.of(List.of("2", "ünï"))).map(r -> (Throwable) null).recover(Future::succeededFuture)))
        .compose(refused -> {
          ctx.verify(() -> assertInstanceOf(KeySync.JobFenced.class, refused));
          return Async.scalar(target, "SELECT v2 FROM t WHERE a = 2");
        })
        .eventually(() -> Future.join(source.close(), target.close()))
        .onComplete(ctx.succeeding(v2 -> ctx.verify(() -> {
          assertEquals(4L, v2);
          ctx.completeNow();
        })));
  }
}
