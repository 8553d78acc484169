package dev.sluice.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The command path on a real ledger, as the CLI uses it ({@link OperatorCommands#onLedger}): each
 * command changes the ledger with its own event and leaves one {@code control.<action>} event; an
 * invalid command or an unknown job changes and records nothing.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class OperatorCommandsTest {
  private static final String ACTOR = "cli (tester)";
  private final TestPg pg = TestPg.get();
  private Pool pool;
  private OperatorCommands commands;

  @BeforeEach
  void setUp(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("commands");
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    commands = OperatorCommands.onLedger(vertx, new Ledger(pool, "agent-test"), job -> null,
        (job, reason, rate, force) -> Future.failedFuture("no rollback in this test"));
    LedgerSchema.ensure(pool)
        .compose(v -> pool.query("INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
            + "VALUES ('j', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')").execute())
        .compose(v -> pool.query("INSERT INTO sluice.segments (job, seq, rows_planned, state) "
            + "SELECT 'j', g, 10, CASE WHEN g = 2 THEN 'failed' ELSE 'pending' END FROM generate_series(0, 3) g").execute())
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void tearDown(VertxTestContext ctx) {
    pool.close().onComplete(ctx.succeedingThenComplete());
  }

  /** The first column of the first row, as text (null: no row or NULL), read through the pool. */
  private Future<String> value(String sql) {
    return pool.query(sql).execute().map(rows -> rows.size() == 0 ? null : rows.iterator().next().getValue(0))
        .map(v -> v == null ? null : String.valueOf(v));
  }

  private Future<String> jobColumn(String column) {
    return value("SELECT " + column + " FROM sluice.jobs WHERE name = 'j'");
  }

  private Future<String> events(String kind) {
    return value("SELECT count(*) FROM sluice.events WHERE job = 'j' AND kind = '" + kind + "'");
  }

  @Test
  void aPauseWithoutAReasonNamesWhoPausedAndMakesNoReasonUp(VertxTestContext ctx) {
    commands.run("j", "pause", new JsonObject(), ACTOR, null)
        .compose(out -> {
          ctx.verify(() -> {
            assertEquals(200, out.status(), out.message());
            assertEquals("job j paused", out.message());
          });
          return Future.all(jobColumn("paused"), jobColumn("pause_reason"), jobColumn("paused_by"),
              value("SELECT message FROM sluice.events WHERE kind = 'job.paused'"), events("control.pause"),
              value("SELECT details->>'status' FROM sluice.events WHERE kind = 'control.pause'"));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals("true", all.resultAt(0));
          assertNull(all.resultAt(1), "no reason given, none made up");
          assertEquals(ACTOR, all.resultAt(2));
          assertEquals("job j paused by cli (tester)", all.resultAt(3));
          assertEquals("1", all.resultAt(4));
          assertEquals("200", all.resultAt(5));
          ctx.completeNow();
        })));
  }

  @Test
  void invalidCommandsAndUnknownJobsChangeAndRecordNothing(VertxTestContext ctx) {
    commands.run("j", "pace", new JsonObject().put("rowsPerSecond", 0), ACTOR, null)
        .compose(out -> {
          ctx.verify(() -> assertEquals(400, out.status(), out.message()));
          return commands.run("nope", "pause", new JsonObject(), ACTOR, null);
        })
        .compose(out -> {
          ctx.verify(() -> {
            assertEquals(404, out.status());
            assertEquals("the ledger has no job \"nope\"", out.message());
          });
          return commands.run("j", "frobnicate", new JsonObject(), ACTOR, null);
        })
        .compose(out -> {
          ctx.verify(() -> assertEquals(400, out.status()));
          return Future.all(value("SELECT count(*) FROM sluice.events"), jobColumn("paused"));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals("0", all.resultAt(0), "nothing recorded");
          assertEquals("false", all.resultAt(1));
          ctx.completeNow();
        })));
  }

  @Test
  void retryThenAbortOnTheLedgerAlone(VertxTestContext ctx) {
    commands.run("j", "retry", new JsonObject().put("segment", 1), ACTOR, null)
        .compose(out -> {
          ctx.verify(() -> assertEquals(409, out.status(), "segment 1 is not failed: " + out.message()));
          return commands.run("j", "retry", new JsonObject().put("segment", 2.0), ACTOR, null);
        })
        .compose(out -> {
          ctx.verify(() -> {
            assertEquals(200, out.status(), out.message());
            assertEquals("queued 1 segment of job j for retry", out.message());
          });
          return value("SELECT state FROM sluice.segments WHERE job = 'j' AND seq = 2");
        })
        .compose(state -> {
          ctx.verify(() -> assertEquals("pending", state));
          return commands.run("j", "abort", new JsonObject().put("reason", " done "), ACTOR, null);
        })
        .compose(out -> {
          ctx.verify(() -> assertEquals(200, out.status(), out.message()));
          return jobColumn("reason");
        })
        .compose(reason -> {
          ctx.verify(() -> assertEquals("aborted by cli (tester): done", reason));
          return commands.run("j", "abort", new JsonObject(), ACTOR, null);
        })
        .compose(out -> {
          ctx.verify(() -> {
            assertEquals(409, out.status());
            assertTrue(out.message().contains("has already ended (aborted)"), out.message());
          });
          return Future.all(events("control.retry"), events("control.abort"));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals("2", all.resultAt(0));
          assertEquals("2", all.resultAt(1), "a refused command that reached its job is recorded too");
          ctx.completeNow();
        })));
  }

  @Test
  void aFailedRollbackIsAnOutcomeNotAnError(VertxTestContext ctx) {
    commands.run("j", "rollback", new JsonObject(), ACTOR, null).onComplete(ctx.succeeding(out -> ctx.verify(() -> {
      assertEquals(500, out.status());
      assertTrue(out.message().startsWith("rollback of job j interrupted: ") && out.message().endsWith("run it again to finish"),
          out.message());
      ctx.completeNow();
    })));
  }
}
