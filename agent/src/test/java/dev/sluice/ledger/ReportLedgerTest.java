package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.report.ReportBuilder;
import dev.sluice.report.ReportInput;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A report's input read from a real ledger: only the events it counts, and the config versions of the job's time. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ReportLedgerTest {
  private final TestPg pg = TestPg.get();

  @Test
  void readsWhatTheReportCounts(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("rep");
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    LedgerSchema.ensure(pool)
        .compose(v -> Async.exec(pool,
            "INSERT INTO sluice.config_versions (hash, applied_at, agent, cause, content) VALUES "
                + "('old', now() - interval '3 hours', 'a', 'start', '{}'), ('before', now() - interval '2 hours', 'a', 'start', '{}'), "
                + "('during', now() - interval '30 minutes', 'a', 'reload', '{}'), ('after', now() + interval '1 hour', 'a', 'reload', '{}')",
            "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types, rows_planned, started_at, finished_at, "
                + "changes_applied, verify_report) VALUES ('orders', 'completed', 'public.o', 'public.o', '{id}', '{bigint}', 300, "
                + "now() - interval '1 hour', now(), 17, '{\"rows\": 300, \"segments\": 3, \"unrepaired\": 0}')",
            "INSERT INTO sluice.segments (job, seq, state, rows_planned, rows_copied) VALUES ('orders', 0, 'verified', 100, 100), "
                + "('orders', 1, 'verified', 100, 100), ('orders', 2, 'verified', 100, 100)",
            "INSERT INTO sluice.events (job, segment, agent, kind, message) VALUES "
                + "('orders', 0, 'a', 'segment.verified', 'segment 0 verified'), "
                + "('orders', 1, 'a', 'segment.retry', 'segment 1 will retry in 5 ms: 40001 could not serialize access'), "
                + "('orders', 1, 'a', 'segment.failed', 'segment 1 failed: 22003 numeric field overflow'), "
                + "('orders', 1, 'a', 'segment.pending', 'segment 1 queued for retry by cli'), "
                + "('orders', 1, 'a', 'segment.verified', 'segment 1 verified'), "
                + "('orders', 2, 'a', 'segment.verified', 'segment 2 verified'), "
                + "('other', 1, 'a', 'segment.failed', 'segment 1 of another job')",
            "INSERT INTO sluice.job_hours (job, hour, rows, run_seconds, lag_max_seconds) VALUES "
                + "('orders', date_trunc('hour', now() - interval '1 hour'), 200, 100, 4), ('orders', date_trunc('hour', now()), 100, 50, 9)"))
        .compose(v -> ReportLedger.input(pool, "orders", "always"))
        .compose(in -> {
          ctx.verify(() -> {
            assertEquals("completed", in.outcome());
            assertEquals(300, in.rowsCopied());
            assertEquals(17, in.changesApplied());
            assertEquals(4, in.events().size(), "retry, failed, pending, and segment 1's verification: not the others'");
            assertEquals(2, in.hours().size());
            assertEquals(java.util.List.of("before", "during"), in.configs().stream().map(ReportInput.ConfigVersion::hash).toList(),
                "the version in force at the start and those applied while it ran");
            JsonObject r = ReportBuilder.build(in);
            assertEquals(1, r.getJsonObject("retries").getJsonObject("byClass").getInteger("40 transaction rollback"));
            assertEquals("parked, retried and verified", r.getJsonObject("segments").getJsonArray("repaired").getJsonObject(0).getString("how"));
            assertEquals(9.0, r.getJsonObject("capture").getDouble("lagPeakSeconds"));
          });
          return ReportLedger.input(pool, "nope", "always");
        })
        .eventually(pool::close)
        .onComplete(ctx.succeeding(none -> ctx.verify(() -> {
          assertNull(none);
          ctx.completeNow();
        })));
  }
}
