package dev.sluice.resilience;

import dev.sluice.config.BreakerConfig;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.testing.Async;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An open breaker's probe to a database that answers nothing (here a proxy that stopped forwarding,
 * closing nothing) fails after the stall timeout and the breaker probes again, instead of waiting
 * on that one connection for as long as TCP lets it; once the database answers, a probe closes it.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class DatabaseBreakerTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aProbeThatGetsNoAnswerFailsAfterTheStallTimeoutAndALaterOneClosesTheBreaker(Vertx vertx, VertxTestContext ctx) throws Exception {
    FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port());
    DatabaseConfig db = new DatabaseConfig("127.0.0.1", proxy.port(), "postgres", "postgres", null, null, DatabaseConfig.Tls.DEFAULT, 1);
    DatabaseBreaker breaker = new DatabaseBreaker(vertx, "source", db, new BreakerConfig(1, Duration.ofMillis(10), Duration.ofMillis(50)),
        Duration.ofSeconds(1), System::nanoTime);
    proxy.freeze();
    breaker.start();
    breaker.failure(new PgException("connection lost", "ERROR", "08006", null));
    Async.until(vertx, Duration.ofSeconds(20), "the probe to the frozen database failed on its own",
            () -> Future.succeededFuture(String.valueOf(breaker.reason())
                .equals("source unavailable: the source stalled: no answer to the probe for 1.0 s (sessions.stallTimeoutMs 1000)")))
        .compose(v -> {
          proxy.thaw();
          return Async.until(vertx, Duration.ofSeconds(20), "a probe closed the breaker", () -> Future.succeededFuture(!breaker.open()));
        })
        .eventually(() -> {
          breaker.stop();
          return Async.blocking(vertx, () -> {
            try {
              proxy.close();
            } catch (java.io.IOException e) {
              throw new IllegalStateException(e);
            }
          });
        })
        .onComplete(ctx.succeedingThenComplete());
  }
}
