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
 * below the stall timeout. Probes into a long freeze must not pile up open sockets: a failed probe's
 * opening, which pgjdbc abandons at its login timeout, still asks again without TLS (sslmode prefer)
 * on a socket its read timeout closes a stall timeout later, so at most two are open at once.
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
          // One probe at a time, each given up on after the stall timeout; pgjdbc's opening it abandoned then asks again
          // without TLS (sslmode prefer) on a connection of its own, which its read timeout closes a stall timeout later.
          // A third connection since the freeze: a probe failed and the next began.
          return Async.until(vertx, STALL.multipliedBy(4), "a probe to the frozen database failed and another began",
                  () -> Future.succeededFuture(proxy.connections() >= before + 3))
              .compose(w -> expect(STALLED.equals(breaker.reason()), "the breaker open for the stall; its reason: " + breaker.reason()))
              .compose(w -> expect(System.nanoTime() - frozenAt >= STALL.toNanos(), "the probe waited the stall timeout out"))
              // Connections do not pile up in a long freeze: the probe in flight's, and the previous one's abandoned opening's.
              .compose(w -> Async.blocking(vertx, () -> mostOpen(proxy.port(), STALL.multipliedBy(2))))
              .compose(most -> expect(most <= 2, most + " connections to the frozen database open at once (at most the probe in "
                  + "flight and the previous probe's abandoned opening)"));
        })
        .compose(v -> {
          proxy.thaw();
          return Async.until(vertx, Duration.ofSeconds(15), "a probe closed the breaker once the proxy thawed",
              () -> Future.succeededFuture(!breaker.open()));
        })
        .eventually(() -> stop(vertx, breaker, proxy))
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * A probe to a database that answers nothing from the start (a listening socket that never says a
   * word: the frozen proxy) fails once, after the stall timeout: its opening is bounded whole (pgjdbc's
   * loginTimeout), not read by read. By the read timeout alone, with sslmode prefer (the default) the
   * driver whose TLS request got no answer asked again without TLS: the first failure came after
   * twice the stall timeout (6.1 s here), with a second connection.
   */
  @Test
  void aProbeToASilentDatabaseFailsAfterTheStallTimeoutOnce(Vertx vertx, VertxTestContext ctx) throws Exception {
    FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port());
    proxy.freeze();
    DatabaseConfig db = new DatabaseConfig("127.0.0.1", proxy.port(), "postgres", "postgres", null, null, DatabaseConfig.Tls.DEFAULT, 1);
    DatabaseBreaker breaker = new DatabaseBreaker(vertx, "source", db, new BreakerConfig(1, Duration.ofMillis(10), Duration.ofMillis(50)),
        STALL, System::nanoTime);
    long t0 = System.nanoTime();
    breaker.failure(connectionLost());
    breaker.start();
    Async.until(vertx, STALL.multipliedBy(4), "the first probe failed", () -> Future.succeededFuture(STALLED.equals(breaker.reason())))
        .compose(v -> {
          double seconds = (System.nanoTime() - t0) / 1e9;
          System.out.printf("first probe to a silent database failed after %.2f s, %d connection(s)%n", seconds, proxy.connections());
          return expect(seconds >= STALL.toMillis() / 1e3 - 0.1, "no sooner than the stall timeout: " + seconds + " s")
              .compose(w -> expect(seconds < STALL.toMillis() / 1e3 + 1.5, "once the stall timeout, not twice: " + seconds + " s"));
        })
        .eventually(() -> stop(vertx, breaker, proxy))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The most connections to {@code port} open at once, looked at every 100 ms for {@code span}. */
  private static long mostOpen(int port, Duration span) throws InterruptedException {
    long most = 0;
    for (long end = System.nanoTime() + span.toNanos(); System.nanoTime() < end; Thread.sleep(100)) {
      most = Math.max(most, openConnectionsTo(port));
    }
    System.out.println("most connections open at once into the freeze: " + most);
    return most;
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

  /** Stops the breaker, then closes the proxy (off the event loop: it joins its threads). */
  private static Future<Void> stop(Vertx vertx, DatabaseBreaker breaker, FreezingProxy proxy) {
    breaker.stop();
    return Async.blocking(vertx, () -> {
      try {
        proxy.close();
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }
}
