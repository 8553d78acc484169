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
 * Before the freeze, a probe through the same proxy must close the breaker: so the stalls are the
 * freeze's doing, not a slow (cold) connection's, and the later probes run on a warm path, far
 * below the stall timeout. A probe that failed has closed its connection: probes into a long freeze
 * must not pile up open sockets.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class DatabaseBreakerTest {
  private static final Duration STALL = Duration.ofSeconds(3);
  private static final String STALLED =
      "source unavailable: the source stalled: no answer to the probe for 3.0 s (sessions.stallTimeoutMs 3000)";
  private final TestPg pg = TestPg.get();

  @Test
  void aProbeThatGetsNoAnswerFailsAfterTheStallTimeoutAndALaterOneClosesTheBreaker(Vertx vertx, VertxTestContext ctx) throws Exception {
    FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port());
    DatabaseConfig db = new DatabaseConfig("127.0.0.1", proxy.port(), "postgres", "postgres", null, null, DatabaseConfig.Tls.DEFAULT, 1);
    DatabaseBreaker breaker = new DatabaseBreaker(vertx, "source", db, new BreakerConfig(1, Duration.ofMillis(10), Duration.ofMillis(50)),
        STALL, System::nanoTime);
    breaker.start();
    breaker.failure(connectionLost());
    Async.until(vertx, Duration.ofSeconds(15), "a probe through the proxy, not frozen yet, closed the breaker",
            () -> Future.succeededFuture(!breaker.open() && proxy.connections() > 0))
        .compose(v -> {
          proxy.freeze();
          long frozenAt = System.nanoTime();
          int before = proxy.connections();
          breaker.failure(connectionLost());
          // One probe at a time, each of two connections (sslmode prefer: TLS asked first, then without after a
          // failure): a third connection since the freeze means a whole probe failed on its own, both connections waited out.
          return Async.until(vertx, STALL.multipliedBy(5), "a probe to the frozen database failed and another began",
                  () -> Future.succeededFuture(proxy.connections() >= before + 3))
              .compose(w -> expect(STALLED.equals(breaker.reason()), "the breaker open for the stall; its reason: " + breaker.reason()))
              // The failed probes closed their connections: only the probe in flight still has one open.
              .compose(w -> Async.blocking(vertx, () -> openConnectionsTo(proxy.port())))
              .compose(open -> expect(open <= 1, open + " connections to the frozen database still open (at most the probe in flight)"))
              .compose(w -> expect(System.nanoTime() - frozenAt >= STALL.multipliedBy(2).toNanos(),
                  "the probe's two connections each waited the stall timeout out"));
        })
        .compose(v -> {
          proxy.thaw();
          return Async.until(vertx, Duration.ofSeconds(15), "a probe closed the breaker once the proxy thawed",
              () -> Future.succeededFuture(!breaker.open()));
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

  /**
   * This host's TCP connections whose far end is {@code port} on loopback and which are still
   * established on our side (a closed one has sent its FIN: FIN_WAIT, not ESTABLISHED). Only the
   * probes connect to the proxy's port.
   */
  private static long openConnectionsTo(int port) {
    String far = String.format(":%04X ", port);
    long n = 0;
    for (String file : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
      try {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(file))) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 3 && (f[2] + " ").endsWith(far) && f[3].equals("01")) n++;
        }
      } catch (java.io.IOException e) {
        throw new IllegalStateException("cannot read " + file + " (Linux only)", e);
      }
    }
    return n;
  }

  private static PgException connectionLost() {
    return new PgException("connection lost", "ERROR", "08006", null);
  }

  private static Future<Void> expect(boolean holds, String what) {
    return holds ? Future.succeededFuture() : Future.failedFuture(new AssertionError("expected: " + what));
  }
}
