package dev.sluice.resilience;

import dev.sluice.config.BreakerConfig;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.db.ConnectionSettings;
import dev.sluice.db.Databases;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.pgclient.PgException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
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
 * stall timeout fails, and its connection is closed (an opening given up on, by the driver within one
 * more stall timeout): the probe is a JDBC session on a worker thread of its own, whose opening (whole)
 * and reads time out (vertx-pg-client has no timeout past the TCP connect
 * and no way to abandon a connection still starting, so each probe into a frozen host or a partition
 * would leave a socket open for as long as the freeze lasts: one a probe, until the agent runs out of
 * file descriptors). Without the timeout a silent probe would also keep the breaker, probing one at a
 * time, from seeing the database come back.
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
  private final ConnectionSettings probeSettings;
  private final WorkerExecutor probes;
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
    this.probeSettings = Databases.settings(db, "sluice-probe");
    // Two threads: a probe past its timeout may still be closing its socket while the next one starts.
    this.probes = vertx.createSharedWorkerExecutor("sluice-probe-" + name, 2);
  }

  public void start() {
    timer = vertx.setPeriodic(TICK_MS, t -> probeIfDue());
  }

  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
    probes.close();
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
    probes.executeBlocking(this::probe, false)
        // A backstop only: the probe's own timeouts end it first (they count whole seconds): the opening's, then the query's.
        .timeout(2 * probeTimeout.toMillis() + 2_000, TimeUnit.MILLISECONDS)
        .recover(e -> Future.failedFuture(stalled(e) ? new DatabaseStalled(String.format(Locale.ROOT,
            "the %s stalled: no answer to the probe for %.1f s (sessions.stallTimeoutMs %d)", name, probeTimeout.toMillis() / 1e3,
            probeTimeout.toMillis())) : e instanceof SQLException q && q.getSQLState() != null
                ? refused(q) : e))
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

  /**
   * One probe: a fresh session and {@code SELECT 1}, every wait on the database bounded by the probe
   * timeout, the opening's whole ({@link ConnectionSettings#readTimeout}: with sslmode prefer, pgjdbc
   * whose TLS request got no answer asks again without TLS, so read by read the opening took twice the
   * timeout). Blocking.
   */
  private Void probe() throws SQLException, TimeoutException {
    int seconds = (int) Math.max(1, (probeTimeout.toMillis() + 999) / 1000);
    java.util.Properties p = probeSettings.jdbcProperties();
    p.setProperty("connectTimeout", String.valueOf(seconds));
    ConnectionSettings.readTimeout(p, seconds); // every read, the start-up's and TLS's included, and the opening whole
    long t0 = System.nanoTime();
    Connection c;
    try {
      c = probeSettings.openJdbc(p);
    } catch (SQLException e) {
      // pgjdbc's loginTimeout ends the opening with 08001 and no cause (its message may be translated): told by the time it took.
      if ("08001".equals(e.getSQLState()) && System.nanoTime() - t0 >= TimeUnit.SECONDS.toNanos(seconds)) {
        TimeoutException t = new TimeoutException("opening the probe's session: " + e.getMessage());
        t.initCause(e);
        throw t;
      }
      throw e;
    }
    try (c; Statement st = c.createStatement()) {
      st.execute("SELECT 1");
    }
    return null;
  }

  /** No answer in time: the backstop's timeout, the probe's opening, or a read or connect of the probe that timed out. */
  private static boolean stalled(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof TimeoutException || c instanceof java.net.SocketTimeoutException) return true;
    }
    return false;
  }

  /** A probe refused by the driver or the server, as the other paths say it (SQLSTATE and message; class 08 counts as down). */
  private static PgException refused(SQLException e) {
    PgException pg = new PgException(e.getMessage(), "ERROR", e.getSQLState(), null);
    pg.addSuppressed(e);
    return pg;
  }
}
