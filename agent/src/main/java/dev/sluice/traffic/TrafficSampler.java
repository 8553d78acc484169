package dev.sluice.traffic;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.db.Databases;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import java.time.Clock;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the learned week: every {@value #XACT_MS} ms it reads the source database's transaction
 * counter ({@code pg_stat_database}, on a {@code sluice-sensor} session of its own) less the
 * statements Sluice's own sensors ran there; the foreground control's readings and each job's
 * figures come in through {@link #foreground}, {@link #probe} and {@link #job}. Every
 * {@value #FLUSH_MS} ms the sums go to the ledger (through {@code sink}); a failed flush keeps them
 * for the next one. So a crash loses at most a minute of the profile.
 */
public final class TrafficSampler {
  private static final Logger log = LoggerFactory.getLogger(TrafficSampler.class);
  static final long XACT_MS = 10_000;
  static final long FLUSH_MS = 60_000;
  static final String XACTS = "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = current_database()";

  private final Vertx vertx;
  private final DatabaseConfig source;
  private final Clock clock;
  private final LongSupplier ownStatements;
  private final Function<HourRecorder.Drained, Future<Void>> sink;
  private final HourRecorder recorder;
  private HourRecorder.Drained unsent;
  private PgConnection conn;
  private long xactTimer = -1;
  private long flushTimer = -1;
  private boolean busy;
  private long samples;
  private final long xactMs;
  private final long flushMs;

  /**
   * @param name the source as the profile names it ({@code host:port/db}, no credentials)
   * @param ownStatements statements Sluice itself ran on the source database so far (its sensors' polls)
   */
  public TrafficSampler(Vertx vertx, DatabaseConfig source, String name, Clock clock, LongSupplier ownStatements,
      Function<HourRecorder.Drained, Future<Void>> sink) {
    this(vertx, source, name, clock, ownStatements, sink, XACT_MS, FLUSH_MS);
  }

  /** With other sampling and flushing periods (tests). */
  TrafficSampler(Vertx vertx, DatabaseConfig source, String name, Clock clock, LongSupplier ownStatements,
      Function<HourRecorder.Drained, Future<Void>> sink, long xactMs, long flushMs) {
    this.xactMs = xactMs;
    this.flushMs = flushMs;
    this.vertx = vertx;
    this.source = source;
    this.clock = clock;
    this.ownStatements = ownStatements;
    this.sink = sink;
    this.recorder = new HourRecorder(name);
  }

  public TrafficSampler start() {
    xactTimer = vertx.setPeriodic(1, xactMs, t -> sampleXacts());
    flushTimer = vertx.setPeriodic(flushMs, flushMs, t -> flush());
    return this;
  }

  public synchronized void foreground(double busy) {
    recorder.foreground(clock.instant(), busy);
  }

  public synchronized void probe(double ms) {
    recorder.probe(clock.instant(), ms);
  }

  public synchronized void job(String job, HourRecorder.JobTick tick) {
    recorder.job(job, clock.instant(), tick);
  }

  private void sampleXacts() {
    if (busy) return;
    busy = true;
    long own = ownStatements.getAsLong();
    connection().compose(c -> c.query(XACTS).execute()).onComplete(ar -> {
      busy = false;
      if (ar.failed()) {
        log.debug("traffic sample failed: {}", ar.cause().toString());
        if (conn != null) conn.close();
        conn = null;
        return;
      }
      var it = ar.result().iterator();
      if (!it.hasNext()) return;
      Long n = it.next().getLong(0);
      if (n == null) return;
      synchronized (this) {
        // Sluice's sensors run one autocommit statement a poll: not the users' transactions. The
        // sample's own query counts from the next sample on, as one more.
        recorder.xacts(clock.instant(), n - own - samples++);
      }
    });
  }

  private Future<PgConnection> connection() {
    if (conn != null) return Future.succeededFuture(conn);
    return Databases.connect(vertx, source, "sluice-sensor").map(c -> conn = c);
  }

  /** Hands what accumulated to the ledger; on failure it is kept and merged into the next flush. */
  public Future<Void> flush() {
    HourRecorder.Drained d;
    synchronized (this) {
      d = merge(unsent, recorder.drain());
      unsent = null;
    }
    if (d.isEmpty()) return Future.succeededFuture();
    return sink.apply(d).recover(e -> {
      log.warn("traffic profile: cannot write to the ledger (kept for the next minute): {}", e.toString());
      synchronized (this) {
        unsent = merge(d, unsent);
      }
      return Future.succeededFuture();
    });
  }

  private static HourRecorder.Drained merge(HourRecorder.Drained a, HourRecorder.Drained b) {
    if (a == null) return b == null ? new HourRecorder.Drained(java.util.List.of(), java.util.List.of()) : b;
    if (b == null) return a;
    java.util.List<TrafficHour> t = new java.util.ArrayList<>(a.traffic());
    t.addAll(b.traffic());
    java.util.List<JobHour> j = new java.util.ArrayList<>(a.jobs());
    j.addAll(b.jobs());
    return new HourRecorder.Drained(t, j);
  }

  public Future<Void> stop() {
    if (xactTimer >= 0) vertx.cancelTimer(xactTimer);
    if (flushTimer >= 0) vertx.cancelTimer(flushTimer);
    Future<Void> f = flush();
    return f.compose(v -> conn == null ? Future.succeededFuture() : conn.close());
  }
}
