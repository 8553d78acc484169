package dev.sluice.capture;

import dev.sluice.agent.Validation;
import dev.sluice.config.ConfigLoader;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a key sync test needs: databases {@code src} and {@code tgt} that each hold a table
 * {@code public.t} keyed by {@code id integer}, a job over it in sync in the target's ledger, pools on
 * both, and the job's shape.
 */
record SyncSetup(JobShape shape, Pool source, Pool target, String src, String tgt) {
  static SyncSetup open(Vertx vertx, TestPg pg, String src, String tgt, String job) throws Exception {
    var cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "%s", "source": {"table": "public.t", "key": ["id"]}, "target": {"table": "public.t"}}]}"""
        .formatted(pg.url(src), pg.url(tgt), job));
    Pool source = Databases.pool(vertx, cfg.source(), "sluice-test", 2);
    Pool target = Databases.pool(vertx, cfg.target(), "sluice-test", 2);
    List<JobShape> shapes = await(vertx.executeBlocking(() -> Validation.check(vertx, cfg), false));
    await(LedgerSchema.ensure(target));
    pg.exec(tgt, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
        + "VALUES ('" + job + "', 'in_sync', 'public.t', 'public.t', '{id}', '{integer}')");
    return new SyncSetup(shapes.get(0), source, target, src, tgt);
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  void close() throws Exception {
    await(Future.join(source.close(), target.close()));
  }
}
