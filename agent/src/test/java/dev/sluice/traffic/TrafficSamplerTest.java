package dev.sluice.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.TrafficLedger;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The sampler against a real PostgreSQL: the users' transactions reach the ledger's hourly sums, less Sluice's own. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class TrafficSamplerTest {
  private final TestPg pg = TestPg.get();

  @Test
  void theUsersTransactionsAndAJobsHourReachTheLedger(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("tsamp");
    SluiceConfig cfg = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items_copy"}}]}
        """.formatted(pg.url(db), pg.url(db)));
    Pool ledger = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres").addProperty("application_name", "sluice-ledger"))
        .using(vertx).build();
    long[] own = {0};
    double[] xacts = {0};
    TrafficSampler sampler = new TrafficSampler(vertx, cfg.source(), "src", Clock.systemUTC(), () -> own[0],
        d -> TrafficLedger.record(ledger, d), 200, 3_600_000);
    LedgerSchema.ensure(ledger)
        .map(v -> sampler.start())
        .compose(v -> Async.pause(vertx, 600)) // a first counter reading
        .compose(v -> Async.blocking(vertx, () -> {
          try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
            for (int i = 0; i < 500; i++) s.execute("SELECT " + i); // 500 autocommit transactions
          } // the backend reports its statistics as it exits
          return null;
        }))
        .compose(v -> {
          own[0] = 100; // and Sluice says 100 of what follows were its own: they are not the users'
          sampler.foreground(3);
          sampler.foreground(1);
          sampler.probe(0.5);
          sampler.job("items", new HourRecorder.JobTick(0, 0, true, null, 1, 1000, Double.NaN));
          return Async.pause(vertx, 300);
        })
        .compose(v -> {
          sampler.job("items", new HourRecorder.JobTick(400, 0.1, true, null, 1, 1000, 2));
          return Async.until(vertx, Duration.ofSeconds(20), "the 500 transactions in the ledger", () -> sampler.flush()
              .compose(x -> TrafficLedger.traffic(ledger, "src"))
              .map(t -> {
                xacts[0] = t.stream().mapToDouble(TrafficHour::xacts).sum();
                return xacts[0] >= 400;
              }));
        })
        .compose(v -> {
          // 500 transactions, less the 100 Sluice said were its own, plus a few of the test's own
          // connection set-up and the ledger's: never the 100.
          ctx.verify(() -> assertTrue(xacts[0] >= 400 && xacts[0] < 480, "transactions counted: " + xacts[0]));
          return Future.all(TrafficLedger.traffic(ledger, "src"), TrafficLedger.jobHours(ledger, "items"));
        })
        .eventually(() -> sampler.stop().eventually(ledger::close))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          TrafficHour h = all.<List<TrafficHour>>resultAt(0).get(0);
          assertEquals(2.0, h.busyAverage(), 1e-9);
          assertEquals(0.5, h.probeMs(), 1e-9);
          JobHour j = all.<List<JobHour>>resultAt(1).get(0);
          assertEquals(400, j.rows());
          assertEquals(2.0, j.lagMaxSeconds(), 1e-9);
          ctx.completeNow();
        })));
  }
}
