package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.ConfigVersions;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.testing.TestPg;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hot reload on its own, against a real ledger: a changed file is parsed, diffed and handed to
 * the applier (on the event loop), and its version recorded; a broken file is refused whole, the
 * refusal recorded, the applier never called and the running version kept.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ConfigWatcherTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private static String config(int segmentRows) {
    return """
        {"source": {"url": "postgresql://u@127.0.0.1:5432/src"}, "target": {"url": "postgresql://u@127.0.0.1:5432/tgt"},
         "agent": {"id": "watcher-test"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"},
                   "segment": {"rows": %d}}]}""".formatted(segmentRows);
  }

  /** Completes once {@code condition} holds (checked every 50 ms on the event loop). */
  private static Future<Void> until(Vertx vertx, BooleanSupplier condition) {
    Promise<Void> done = Promise.promise();
    vertx.setPeriodic(50, id -> {
      if (condition.getAsBoolean()) {
        vertx.cancelTimer(id);
        done.tryComplete();
      }
    });
    return done.future();
  }

  @Test
  void aChangedFileIsAppliedAndRecordedABrokenOneRefusedWhole(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("watcher");
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    String file = dir.resolve("sluice.json").toString();
    Checkpoint applied = ctx.checkpoint();
    int[] calls = {0};
    ConfigWatcher watcher = new ConfigWatcher(vertx, Path.of(file), new ConfigVersions(pool, "watcher-test"), (next, diff) -> {
      calls[0]++;
      ctx.verify(() -> {
        assertTrue(Context.isOnEventLoopThread(), "the agent applies a reload on its event loop");
        assertEquals(700, next.jobs().get(0).segmentRows());
        assertEquals("jobs[items].segment.rows", diff.live().get(0).path());
      });
      applied.flag();
      return Future.succeededFuture();
    });
    LedgerSchema.ensure(pool)
        .compose(v -> vertx.fileSystem().writeFile(file, io.vertx.core.buffer.Buffer.buffer(config(2000))))
        .compose(v -> watcher.start())
        .compose(v -> vertx.fileSystem().writeFile(file, io.vertx.core.buffer.Buffer.buffer(config(700))))
        .compose(v -> until(vertx, () -> calls[0] == 1 && watcher.status().containsKey("lastReload")))
        .compose(v -> pool.query("SELECT count(*) FROM sluice.config_versions WHERE cause = 'reload'").execute())
        .compose(rows -> {
          ctx.verify(() -> assertEquals(1L, rows.iterator().next().getLong(0), "the reloaded version is recorded"));
          String hash = watcher.status().getString("hash");
          return vertx.fileSystem().writeFile(file, io.vertx.core.buffer.Buffer.buffer("{\"jobs\": 5}"))
              .compose(x -> until(vertx, () -> !watcher.status().getJsonObject("lastReload").getBoolean("ok")))
              .map(hash);
        })
        .compose(hash -> {
          JsonObject status = watcher.status();
          ctx.verify(() -> {
            assertEquals(hash, status.getString("hash"), "the running version stays in force");
            assertFalse(status.getJsonObject("lastReload").getJsonArray("problems").isEmpty());
            assertEquals(1, calls[0], "a refused file never reaches the applier");
          });
          return pool.query("SELECT count(*) FROM sluice.events WHERE kind = 'config.rejected'").execute();
        })
        // The pool is closed before the test ends, whatever happened: its sessions would outlive the test
        // (and another test's sensor, reading the server's sessions, would count them).
        .eventually(() -> {
          watcher.stop();
          return pool.close();
        })
        .onComplete(ctx.succeeding(rows -> ctx.verify(() -> {
          assertEquals(1L, rows.iterator().next().getLong(0), "the refusal is in the audit trail");
          ctx.completeNow();
        })));
  }
}
