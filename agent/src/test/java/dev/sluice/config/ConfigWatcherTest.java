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
import io.vertx.core.json.JsonArray;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
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
  private static final String ID = "\"agent\": {\"id\": \"watcher-test\"},";
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
    // No checkpoint for the apply: a flagged checkpoint completed the test there, and nothing after it was checked.
    int[] calls = {0};
    ConfigWatcher watcher = new ConfigWatcher(vertx, Path.of(file), new ConfigVersions(pool, "watcher-test"), (next, diff) -> {
      calls[0]++;
      ctx.verify(() -> {
        assertTrue(Context.isOnEventLoopThread(), "the agent applies a reload on its event loop");
        assertEquals(700, next.jobs().get(0).segmentRows());
        assertEquals("jobs[items].segment.rows", diff.live().get(0).path());
      });
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
        .compose(rows -> {
          ctx.verify(() -> assertFalse(watcher.lastReloadOk()));
          // The broken edit undone (the file as it runs): the refusal is over, with nothing to apply.
          return vertx.fileSystem().writeFile(file, io.vertx.core.buffer.Buffer.buffer(config(700)))
              .compose(x -> until(vertx, () -> watcher.status().getJsonObject("lastReload").getBoolean("ok")))
              .map(x -> {
                ctx.verify(() -> {
                  assertTrue(watcher.lastReloadOk(), "sluice_config_last_reload_successful is 1 again");
                  assertTrue(watcher.status().getJsonObject("lastReload").getString("message").contains("matches the running config"));
                  assertEquals(1, calls[0], "nothing to apply");
                });
                return rows;
              });
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

  @AfterEach
  void environment() {
    Env.override(null);
  }

  /**
   * A reload is parsed on a worker: the loader reads the environment while it parses (and may look
   * the host name up when agent.id is absent, once per process), which must never happen on an
   * event loop. The environment here notes the thread of every read.
   */
  @Test
  void aReloadIsParsedOffTheEventLoop(Vertx vertx, VertxTestContext ctx) {
    List<Boolean> onEventLoop = new CopyOnWriteArrayList<>();
    Env.override(new HashMap<>(System.getenv()) {
      @Override
      public String get(Object name) {
        onEventLoop.add(Context.isOnEventLoopThread());
        return super.get(name);
      }
    });
    String file = dir.resolve("sluice.json").toString();
    String withoutId = config(700).replace(ID, "");
    ConfigWatcher.Versions versions = new ConfigWatcher.Versions() {
      @Override
      public Future<Void> started(String hash, JsonObject content) {
        return Future.succeededFuture();
      }

      @Override
      public Future<Long> reloaded(String hash, JsonObject content, JsonArray changes, String summary) {
        return Future.succeededFuture(1L);
      }

      @Override
      public Future<Void> rejected(String hash, String message, JsonArray problems) {
        return Future.succeededFuture();
      }
    };
    Checkpoint applied = ctx.checkpoint();
    Checkpoint checked = ctx.checkpoint();
    ConfigWatcher watcher = new ConfigWatcher(vertx, Path.of(file), versions, (next, diff) -> {
      applied.flag();
      return Future.succeededFuture();
    });
    vertx.fileSystem().writeFile(file, io.vertx.core.buffer.Buffer.buffer(config(2000).replace(ID, "")))
        .compose(v -> watcher.start())
        .compose(v -> vertx.fileSystem().writeFile(file, io.vertx.core.buffer.Buffer.buffer(withoutId)))
        .compose(v -> until(vertx, () -> watcher.status().containsKey("lastReload")))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          watcher.stop();
          assertTrue(watcher.status().getJsonObject("lastReload").getBoolean("ok"), watcher.status().encode());
          assertFalse(onEventLoop.isEmpty(), "the reload's parse read the environment");
          assertFalse(onEventLoop.contains(true), "the environment was read on an event loop: " + onEventLoop);
          checked.flag();
        })));
  }
}
