package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import dev.sluice.traffic.HourRecorder;
import dev.sluice.traffic.JobHour;
import dev.sluice.traffic.TrafficHour;
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
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The learned week, milestones and reports in a real ledger. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class TrafficLedgerTest {
  private static final TestPg pg = TestPg.get();
  private static Pool pool;

  @BeforeAll
  static void setUp(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("traffic");
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    LedgerSchema.ensure(pool).onComplete(ctx.succeedingThenComplete());
  }

  @AfterAll
  static void tearDown(VertxTestContext ctx) {
    pool.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void drainsAddUpInTheLedgerAndOldTrafficIsPruned(VertxTestContext ctx) {
    Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    HourRecorder.Drained first = new HourRecorder.Drained(List.of(new TrafficHour("src", hour, 10, 1000, 10, 20, 10, 3, 5, 10, 0.9)),
        List.of(new JobHour("orders", hour, 5000, 0.5, 10, 2, Map.of("health", 3.0), 10_000, 10, 1.5)));
    HourRecorder.Drained second = new HourRecorder.Drained(List.of(new TrafficHour("src", hour, 10, 3000, 10, 40, 10, 7, 15, 10, 2.0)),
        List.of(new JobHour("orders", hour, 7000, 0.7, 10, 0, Map.of("health", 1.0, "paused", 4.0), 20_000, 10, 0.5)));
    Instant old = hour.minus(Duration.ofDays(7 * 9));
    TrafficLedger.record(pool, first)
        .compose(v -> TrafficLedger.record(pool, second))
        .compose(v -> Future.all(TrafficLedger.traffic(pool, "src"), TrafficLedger.jobHours(pool, "orders")))
        .compose(all -> {
          ctx.verify(() -> {
            TrafficHour t = all.<List<TrafficHour>>resultAt(0).get(0);
            assertEquals(200.0, t.xactsPerSecond(), 1e-9);
            assertEquals(3.0, t.busyAverage(), 1e-9);
            assertEquals(7.0, t.busyMax(), 1e-9);
            assertEquals(1.0, t.probeMs(), 1e-9);
            JobHour j = all.<List<JobHour>>resultAt(1).get(0);
            assertEquals(12_000, j.rows());
            assertEquals(Map.of("health", 4.0, "paused", 4.0), j.waitSeconds());
            assertEquals(1500.0, j.allowedRate(), 1e-9);
            assertEquals(1.5, j.lagMaxSeconds(), 1e-9);
            assertEquals(600.0, j.achievedRate(), 1e-9);
          });
          return TrafficLedger.record(pool, new HourRecorder.Drained(List.of(TrafficHour.empty("src", old).plus(
              new TrafficHour("src", old, 1, 1, 1, 0, 0, 0, 0, 0, 0))), List.of()));
        })
        .compose(v -> Async.exec(pool, "INSERT INTO sluice.job_hours (job, hour, rows) VALUES ('gone', now() - interval '9 weeks', 1)"))
        .compose(v -> TrafficLedger.prune(pool))
        .compose(v -> Future.all(TrafficLedger.traffic(pool, null), TrafficLedger.jobHours(pool, "gone"),
            TrafficLedger.jobHours(pool, "orders")))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals(1, all.<List<TrafficHour>>resultAt(0).size());
          assertTrue(all.<List<JobHour>>resultAt(1).isEmpty());
          assertEquals(1, all.<List<JobHour>>resultAt(2).size());
          ctx.completeNow();
        })));
  }

  @Test
  void aMilestoneIsClaimedOnceAcrossAgentsAndTheLatestReportIsServed(VertxTestContext ctx) {
    Reports.claimMilestone(pool, "agent-a", "orders", "progress/25", "progress")
        .compose(claimed -> {
          ctx.verify(() -> assertTrue(claimed));
          return Reports.claimMilestone(pool, "agent-b", "orders", "progress/25", "progress");
        })
        .compose(claimed -> {
          ctx.verify(() -> assertFalse(claimed));
          return Reports.claimMilestone(pool, "agent-b", "orders", "progress/50", "progress");
        })
        .compose(claimed -> {
          ctx.verify(() -> assertTrue(claimed));
          return Reports.latest(pool, "orders");
        })
        .compose(latest -> {
          ctx.verify(() -> assertNull(latest));
          return Reports.save(pool, "agent-a", "orders", "aborted", new JsonObject().put("outcome", "aborted"));
        })
        .compose(v -> Reports.save(pool, "agent-a", "orders", "rolled_back", new JsonObject().put("outcome", "rolled_back")))
        .compose(v -> Reports.latest(pool, "orders"))
        .onComplete(ctx.succeeding(latest -> ctx.verify(() -> {
          assertEquals("rolled_back", latest.getString("outcome"));
          ctx.completeNow();
        })));
  }
}
