package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.db.Await;
import dev.sluice.testing.TestPg;
import dev.sluice.traffic.HourRecorder;
import dev.sluice.traffic.JobHour;
import dev.sluice.traffic.TrafficHour;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
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

/** The learned week, milestones and reports in a real ledger. */
class TrafficLedgerTest {
  private static final TestPg pg = TestPg.get();
  private static Vertx vertx;
  private static Pool pool;
  private static String db;

  @BeforeAll
  static void setUp() {
    db = pg.createDatabase("traffic");
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    Await.result(LedgerSchema.ensure(pool));
  }

  @AfterAll
  static void tearDown() throws Exception {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void drainsAddUpInTheLedgerAndOldTrafficIsPruned() {
    Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    HourRecorder.Drained first = new HourRecorder.Drained(List.of(new TrafficHour("src", hour, 10, 1000, 10, 20, 10, 3, 5, 10, 0.9)),
        List.of(new JobHour("orders", hour, 5000, 0.5, 10, 2, Map.of("health", 3.0), 10_000, 10, 1.5)));
    HourRecorder.Drained second = new HourRecorder.Drained(List.of(new TrafficHour("src", hour, 10, 3000, 10, 40, 10, 7, 15, 10, 2.0)),
        List.of(new JobHour("orders", hour, 7000, 0.7, 10, 0, Map.of("health", 1.0, "paused", 4.0), 20_000, 10, 0.5)));
    Await.result(TrafficLedger.record(pool, first));
    Await.result(TrafficLedger.record(pool, second));
    TrafficHour t = Await.result(TrafficLedger.traffic(pool, "src")).get(0);
    assertEquals(200.0, t.xactsPerSecond(), 1e-9);
    assertEquals(3.0, t.busyAverage(), 1e-9);
    assertEquals(7.0, t.busyMax(), 1e-9);
    assertEquals(1.0, t.probeMs(), 1e-9);
    JobHour j = Await.result(TrafficLedger.jobHours(pool, "orders")).get(0);
    assertEquals(12_000, j.rows());
    assertEquals(Map.of("health", 4.0, "paused", 4.0), j.waitSeconds());
    assertEquals(1500.0, j.allowedRate(), 1e-9);
    assertEquals(1.5, j.lagMaxSeconds(), 1e-9);
    assertEquals(600.0, j.achievedRate(), 1e-9);

    Instant old = hour.minus(Duration.ofDays(7 * 9));
    Await.result(TrafficLedger.record(pool, new HourRecorder.Drained(List.of(TrafficHour.empty("src", old).plus(
        new TrafficHour("src", old, 1, 1, 1, 0, 0, 0, 0, 0, 0))), List.of())));
    pg.exec(db, "INSERT INTO sluice.job_hours (job, hour, rows) VALUES ('gone', now() - interval '9 weeks', 1)");
    Await.result(TrafficLedger.prune(pool));
    assertEquals(1, Await.result(TrafficLedger.traffic(pool, null)).size());
    assertTrue(Await.result(TrafficLedger.jobHours(pool, "gone")).isEmpty());
    assertEquals(1, Await.result(TrafficLedger.jobHours(pool, "orders")).size());
  }

  @Test
  void aMilestoneIsClaimedOnceAcrossAgentsAndTheLatestReportIsServed() {
    assertTrue(Await.result(Reports.claimMilestone(pool, "agent-a", "orders", "progress/25", "progress")));
    assertFalse(Await.result(Reports.claimMilestone(pool, "agent-b", "orders", "progress/25", "progress")));
    assertTrue(Await.result(Reports.claimMilestone(pool, "agent-b", "orders", "progress/50", "progress")));
    assertNull(Await.result(Reports.latest(pool, "orders")));
    Await.result(Reports.save(pool, "agent-a", "orders", "aborted", new JsonObject().put("outcome", "aborted")));
    Await.result(Reports.save(pool, "agent-a", "orders", "rolled_back", new JsonObject().put("outcome", "rolled_back")));
    assertEquals("rolled_back", Await.result(Reports.latest(pool, "orders")).getString("outcome"));
  }
}
