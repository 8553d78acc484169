package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Validation;
import dev.sluice.config.ConfigLoader;
import dev.sluice.db.Databases;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A batch of wide rows through the applier's lanes: the lanes' statements shrink to the rows' width
 * (so one statement never holds a lane's whole share of the batch), and every key still converges on
 * the source's current row, in lanes and statements one after another.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class KeyLanesSyncTest {
  private final TestPg pg = TestPg.get();

  @Test
  void wideRowsGoInSmallerStatementsAndEveryKeyConverges(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("kl_src");
    String tgt = pg.createDatabase("kl_tgt");
    // 3,000 rows of about 20,000 characters: 2 Mi characters of row text is about 100 rows.
    pg.exec(src, "CREATE TABLE w (id int PRIMARY KEY, body text NOT NULL)",
        "INSERT INTO w SELECT g, repeat(md5(g::text), 625) FROM generate_series(1, 3000) g");
    pg.exec(tgt, "CREATE TABLE w (id int PRIMARY KEY, body text NOT NULL)",
        // Stale rows for half of the keys, rows gone from the source for some others.
        "INSERT INTO w SELECT g, 'stale' FROM generate_series(1, 3000, 2) g", "INSERT INTO w VALUES (5000, 'gone'), (5001, 'gone')");
    var cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "kl", "source": {"table": "public.w", "key": ["id"]}, "target": {"table": "public.w"}}]}"""
        .formatted(pg.url(src), pg.url(tgt)));
    Pool source = Databases.pool(vertx, cfg.source(), "sluice-test", 4);
    Pool target = Databases.pool(vertx, cfg.target(), "sluice-test", 4);
    List<List<String>> keys = new ArrayList<>();
    for (int i = 1; i <= 3000; i++) keys.add(List.of(String.valueOf(i)));
    keys.add(List.of("5000"));
    keys.add(List.of("5001"));
    KeyLanes lanes = new KeyLanes(2);
    vertx.executeBlocking(() -> Validation.check(vertx, cfg), false)
        .compose(shapes -> LedgerSchema.ensure(target).compose(v -> Async.blocking(vertx, () -> pg.exec(tgt,
            "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
                + "VALUES ('kl', 'catching_up', 'public.w', 'public.w', '{id}', '{integer}')")))
            .map(v -> new KeySync(shapes.get(0), source, target)))
        .compose(sync -> lanes.sync(sync, keys))
        .compose(v -> Async.blocking(vertx, () -> List.of(
            pg.scalar(tgt, "SELECT count(*) FROM w"),
            pg.scalar(tgt, "SELECT count(*) FROM w t WHERE t.body = repeat(md5(t.id::text), 625)"))))
        .onComplete(ctx.succeeding(counts -> ctx.verify(() -> {
          assertEquals(3000L, counts.get(0), "every source row is in the target, the two gone keys are deleted");
          assertEquals(3000L, counts.get(1), "every row equals the source's");
          int size = lanes.statementKeys();
          assertTrue(size >= KeyLanes.MIN_STATEMENT_KEYS && size <= 150,
              "statements shrank to the rows' width (about 100 keys of 20,000 characters): " + size);
          source.close();
          target.close();
          ctx.completeNow();
        })));
  }
}
