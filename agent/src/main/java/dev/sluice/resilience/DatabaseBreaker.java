package dev.sluice.resilience;

import dev.sluice.config.BreakerConfig;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.db.Databases;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker of one database ({@code source} or {@code target}), shared by every job of the
 * agent. Fed with the connection-class failures and the successes of real work; while open, jobs
 * pause with "source unavailable" / "target unavailable", and a half-open probe (a fresh connection
 * and {@code SELECT 1}) decides when the database is back. A probe that gets no answer within the
 * stall timeout fails: vertx-pg-client has no timeout of its own past the TCP connect, so a probe
 * whose connection went silent (a partition, a NAT entry dropped) would otherwise wait forever and,
 * the breaker probing one at a time, keep the jobs waiting after the database came back.
 */
public final class DatabaseBreaker {
  private static final Logger log = LoggerFactory.getLogger(DatabaseBreaker.class);
  private static final long TICK_MS = 250;

  private final Vertx vertx;
  private final String name;
  private final DatabaseConfig db;
  private final LongSupplier clock;
  private final CircuitBreaker breaker;
  private final Duration probeTimeout;
  private boolean probing;
  private long timer = -1;

  /** {@code probeTimeout}: how long a probe may go unanswered ({@code sessions.stallTimeoutMs}). */
  public DatabaseBreaker(Vertx vertx, String name, DatabaseConfig db, BreakerConfig config, Duration probeTimeout, LongSupplier clock) {
    this.vertx = vertx;
    this.probeTimeout = probeTimeout;
    this.name = name;
    this.db = db;
    this.clock = clock;
    this.breaker = new CircuitBreaker(config.failures(), config.open().toNanos(), config.maxOpen().toNanos());
  }

  public void start() {
    timer = vertx.setPeriodic(TICK_MS, t -> probeIfDue());
  }

  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  /** Counts a failure of real work; only connection-class failures say the database is down. */
  public synchronized void failure(Throwable e) {
    if (!ErrorClassifier.isConnectionLoss(e)) return;
    if (breaker.onFailure(ErrorClassifier.describe(e), clock.getAsLong())) {
      log.warn("{} unavailable: circuit breaker open after {} failures: {}", name, breaker.failures(), breaker.lastError());
    }
  }

  public synchronized void success() {
    if (breaker.state(clock.getAsLong()) != CircuitBreaker.State.CLOSED) return; // only the probe closes an open breaker
    breaker.onSuccess();
  }

  public synchronized boolean open() {
    return breaker.state(clock.getAsLong()) != CircuitBreaker.State.CLOSED;
  }

  /** closed (the database answers), open (copying stopped), half-open (a probe decides). */
  public synchronized CircuitBreaker.State state() {
    return breaker.state(clock.getAsLong());
  }

  /** "source unavailable: 08006 ..." while open, else null. */
  public synchronized String reason() {
    return open() ? name + " unavailable: " + breaker.lastError() : null;
  }

  private void probeIfDue() {
    synchronized (this) {
      if (probing || breaker.state(clock.getAsLong()) != CircuitBreaker.State.HALF_OPEN) return;
      probing = true;
    }
    Databases.connect(vertx, db, "sluice-probe")
        .compose(c -> c.query("SELECT 1").execute().eventually(c::close))
        .timeout(probeTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .recover(e -> Future.failedFuture(e instanceof TimeoutException ? new DatabaseStalled(String.format(Locale.ROOT,
            "the %s stalled: no answer to the probe for %.1f s (sessions.stallTimeoutMs %d)", name, probeTimeout.toMillis() / 1e3,
            probeTimeout.toMillis())) : e))
        .onComplete(ar -> {
          synchronized (this) {
            probing = false;
            if (ar.succeeded()) {
              breaker.onSuccess();
              log.info("{} is back: circuit breaker closed", name);
            } else {
              breaker.onFailure(ErrorClassifier.describe(ar.cause()), clock.getAsLong());
            }
          }
        });
  }
}
