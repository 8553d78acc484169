package dev.sluice.health;

import dev.sluice.config.SensorSpec;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.HealthConfig;
import dev.sluice.config.SessionLimits;
import dev.sluice.config.TableName;
import dev.sluice.db.ConnectionReset;
import dev.sluice.db.Databases;
import dev.sluice.pace.ForegroundPace;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Runs the agent's sensors, each on its own timer and its own connection, and stores each reading
 * with the time it was taken. A sensor whose last poll is still running is not polled again, so a
 * hung query makes its reading age until the {@link Throttler} fails closed on it. A poll that has had
 * no answer at all for twice {@code health.timeoutMs} (the server itself cancels the query at that
 * timeout and says so: silence past it is a database gone silent, a partition or a frozen host) fails
 * with {@link DatabaseStalled}, its session is reset ({@link ConnectionReset}), and the next poll opens a
 * fresh one: the sensor reads "failed" (the database unhealthy, its breaker told) rather than hang for
 * ever, and reads again once the database answers. The decision is
 * taken from the stored readings only, every {@value #DECIDE_MS} ms, and read by every job's gate.
 * The foreground sensor's and the foreground probe's readings also feed the {@link ForegroundPace} controller;
 * the decision is the throttler's combined with it (the lower rate factor, either one's hold).
 */
public final class HealthMonitor {
  static final long DECIDE_MS = 200;
  static final long LOG_EVERY_NANOS = 5_000_000_000L;
  /** The least a poll waits for an answer before its database counts as silent (a connection's opening included). */
  static final long MIN_SILENCE_MS = 1_000;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HealthMonitor.class);

  /**
   * {@code read}, or, once it has had no answer at all for twice {@code timeout} (at least
   * {@link #MIN_SILENCE_MS}: the server cancels a query at the timeout and says so, so silence past it
   * is a database gone silent), the failure {@code silent} gives (it resets the session). Vert.x's own
   * timeout; a read still pending tells the silence from the read's own failure.
   */
  static <T> Future<T> unlessSilent(java.time.Duration timeout, Future<T> read, java.util.function.Supplier<Throwable> silent) {
    long limit = Math.max(MIN_SILENCE_MS, 2 * timeout.toMillis());
    return read.timeout(limit, java.util.concurrent.TimeUnit.MILLISECONDS)
        .recover(e -> Future.failedFuture(read.isComplete() ? e : silent.get()));
  }

  private final Vertx vertx;
  private volatile HealthConfig config;
  private final DatabaseConfig source;
  private final DatabaseConfig target;
  private final LongSupplier clock;
  private final Throttler throttler;
  private final ForegroundPace foreground;
  private final LockWatch locks;
  private final Map<String, Reading> readings = new ConcurrentHashMap<>();
  /** When each sensor last read successfully (its start, before a first success): a failed read is a fresh reading too. */
  private final Map<String, Long> lastSuccess = new ConcurrentHashMap<>();
  private final List<Loop> loops = new ArrayList<>();
  private volatile Throttler.Decision decision;
  private volatile java.util.function.BiConsumer<String, Throwable> listener = (db, e) -> {};
  private final List<Runnable> decisionListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicLong sourceStatements = new java.util.concurrent.atomic.AtomicLong();
  private volatile ForegroundListener foregroundListener = (kind, value) -> {};
  private long decideTimer = -1;
  private boolean foregroundSeen;
  private long foregroundLogged = Long.MIN_VALUE;

  public HealthMonitor(Vertx vertx, HealthConfig config, DatabaseConfig source, DatabaseConfig target, LongSupplier clock) {
    this.vertx = vertx;
    this.config = config;
    this.source = source;
    this.target = target;
    this.clock = clock;
    this.throttler = new Throttler(config.sensors(), config.grace().toNanos(), config.resumeAfter().toNanos());
    this.foreground = config.foreground() == null ? null : new ForegroundPace(config.foreground());
    this.decision = new Throttler.Decision(true, "sensors starting", 1.0, null);
    this.locks = new LockWatch(vertx, source, target, config.timeout());
  }

  public void start() {
    startLoops();
    locks.start();
    decideTimer = vertx.setPeriodic(1, DECIDE_MS, t -> decide());
  }

  private void startLoops() {
    long now = clock.getAsLong();
    for (SensorSpec s : config.sensors()) {
      lastSuccess.putIfAbsent(s.id(), now);
      Loop loop = new Loop(s);
      loops.add(loop);
      loop.timer = vertx.setPeriodic(1, s.interval().toMillis(), t -> loop.poll());
    }
  }

  /** The sensor ids a config names; a reload may change thresholds and timings, not this set. */
  public static java.util.Set<String> ids(HealthConfig c) {
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    for (SensorSpec s : c.sensors()) out.add(s.id());
    return out;
  }

  /**
   * Puts new thresholds, intervals, queries and timings in force (a config reload). The sensors
   * restart on their new timers with fresh connections; their last readings are kept, so the
   * decision does not flap, and the throttler keeps its hysteresis. The set of sensors must not
   * change: each has its own meters (a restart adds or removes sensors).
   */
  public synchronized Future<Void> reconfigure(HealthConfig next) {
    if (!ids(next).equals(ids(config))) {
      return Future.failedFuture(new IllegalArgumentException("health sensors " + ids(config) + " -> " + ids(next)
          + ": adding or removing a sensor needs a restart (thresholds and timings reload live)"));
    }
    List<Future<Void>> closes = new ArrayList<>();
    for (Loop l : loops) {
      // A poll still in flight on the old connection fails when it closes: a retired loop must not
      // store that as a reading, or a threshold edit would fail closed and pause the job.
      l.retired = true;
      vertx.cancelTimer(l.timer);
      if (l.conn != null && l.busy) ConnectionReset.reset(l.conn);
      else if (l.conn != null) closes.add(l.conn.close().otherwiseEmpty());
    }
    loops.clear();
    config = next;
    throttler.reconfigure(next.sensors(), next.grace().toNanos(), next.resumeAfter().toNanos());
    if (foreground != null && next.foreground() != null) foreground.reconfigure(next.foreground());
    startLoops();
    return Future.join(closes).mapEmpty();
  }

  /**
   * Tells {@code listener} of every database sensor's outcome: the database ({@code source} or
   * {@code target}) and the error, or null on success. The circuit breakers listen, so a database
   * that stops answering is known to be down even while no segment is being copied.
   */
  public void listen(java.util.function.BiConsumer<String, Throwable> listener) {
    this.listener = listener;
  }

  /** Hears the foreground sensor's and probe's readings (the learned week records them). */
  public interface ForegroundListener {
    void reading(SensorSpec.Kind kind, double value);
  }

  public void listenForeground(ForegroundListener l) {
    this.foregroundListener = l;
  }

  /** Statements the sensors ran on the source database so far (the learned week does not count them as the users'). */
  public long sourceStatements() {
    return sourceStatements.get();
  }

  /** Told when a decision changes between throttled and not (so a job's gate need not wait for its next tick). */
  public void onDecisionChange(Runnable r) {
    decisionListeners.add(r);
  }

  private void decide() {
    Throttler.Decision d;
    boolean changed;
    synchronized (this) {
      long now = clock.getAsLong();
      ForegroundPace.Verdict v = foreground == null ? null : foreground.decide(now);
      d = combine(throttler.decide(Map.copyOf(readings), now), v);
      changed = d.throttled() != decision.throttled();
      decision = d;
      if (v != null) logForeground(v, now);
    }
    if (changed) decisionListeners.forEach(Runnable::run);
  }

  /** Says when foreground work comes and goes, and every few seconds how the rate follows it. */
  private void logForeground(ForegroundPace.Verdict v, long now) {
    boolean seen = foreground.foregroundPresent();
    if (seen != foregroundSeen || (v.reason() != null && now - foregroundLogged >= LOG_EVERY_NANOS)) {
      log.info(v.reason() == null ? "no foreground work: full speed" : v.reason());
      foregroundLogged = now;
    }
    foregroundSeen = seen;
  }

  /** The throttler's decision with the foreground control's verdict: the lower factor, either one's hold. */
  static Throttler.Decision combine(Throttler.Decision d, ForegroundPace.Verdict v) {
    if (v == null) return d;
    double factor = Math.min(d.rateFactor(), v.rateFactor());
    String headroom = v.rateFactor() < d.rateFactor() ? v.reason() : d.headroom();
    if (v.throttled()) return new Throttler.Decision(true, d.throttled() ? d.reason() + "; " + v.reason() : v.reason(), factor, headroom);
    return new Throttler.Decision(d.throttled(), d.reason(), factor, headroom);
  }

  private synchronized void feed(SensorSpec spec, double value, long now) {
    if (spec.kind() == SensorSpec.Kind.FOREGROUND || spec.kind() == SensorSpec.Kind.FOREGROUND_PROBE) {
      foregroundListener.reading(spec.kind(), value);
    }
    if (foreground == null) return;
    if (spec.kind() == SensorSpec.Kind.FOREGROUND_PROBE) foreground.onProbe(value, now);
    if (spec.kind() == SensorSpec.Kind.FOREGROUND) foreground.onSessions((int) value, now);
  }

  /** The latest decision (throttle or not, why, and the headroom rate factor). */
  public Throttler.Decision decision() {
    return decision;
  }

  /**
   * Why a job whose tables are these makes no progress because its statements wait for a lock (which,
   * and behind whom), or null: watched whatever sensors are configured ({@link LockWatch}).
   */
  public String lockWait(TableName source, TableName target) {
    return locks.reason(source, target);
  }

  /** Every sensor's latest reading and its age, for the API and dashboard. */
  public JsonArray snapshot() {
    JsonArray out = new JsonArray();
    long now = clock.getAsLong();
    for (SensorSpec s : config.sensors()) {
      Reading r = readings.get(s.id());
      JsonObject j = new JsonObject().put("sensor", s.kind().configName).put("database", s.database()).put("label", s.label())
          .put("threshold", Double.isInfinite(s.max()) ? null : s.max()).put("unit", s.kind().unit);
      if (s.kind() == SensorSpec.Kind.FOREGROUND && foreground != null) {
        synchronized (this) {
          j.put("rateFactor", foreground.factor()).put("probeFloorMs", Double.isNaN(foreground.floorMs()) ? null : foreground.floorMs());
        }
      }
      if (r != null) {
        j.put("value", r.ok() ? r.value() : null).put("error", r.error()).put("ageMs", (now - r.atNanos()) / 1_000_000);
      }
      Long ok = lastSuccess.get(s.id());
      if (ok != null) j.put("successAgeMs", (now - ok) / 1_000_000);
      out.add(j);
    }
    return out;
  }

  public Future<Void> stop() {
    if (decideTimer >= 0) vertx.cancelTimer(decideTimer);
    List<Future<Void>> closes = new ArrayList<>();
    closes.add(locks.stop());
    synchronized (this) {
      for (Loop l : loops) {
        l.retired = true; // a connection still opening is closed when it opens
        vertx.cancelTimer(l.timer);
        // A poll in flight may wait on a silent database: a close would wait with it.
        if (l.conn != null && l.busy) ConnectionReset.reset(l.conn);
        else if (l.conn != null) closes.add(l.conn.close().otherwiseEmpty());
      }
    }
    return Future.join(closes).mapEmpty();
  }

  /** One sensor: its timer, its connection, whether a poll is in flight. */
  private final class Loop {
    private final SensorSpec spec;
    private long timer;
    private PgConnection conn;
    private volatile boolean busy;
    /** Counts the polls that went silent: a connection opened for an earlier one is not kept. */
    private int silences;
    private volatile boolean retired;

    Loop(SensorSpec spec) {
      this.spec = spec;
    }

    void poll() {
      if (busy) return; // still waiting on the previous poll: the reading ages, and goes stale
      busy = true;
      timed().onComplete(ar -> {
        busy = false;
        if (retired) {
          if (conn != null) conn.close();
          return;
        }
        long now = clock.getAsLong();
        if (!spec.database().equals("host")) listener.accept(spec.database(), ar.cause());
        if (ar.succeeded()) {
          readings.put(spec.id(), Reading.of(ar.result(), now));
          lastSuccess.put(spec.id(), now);
          feed(spec, ar.result(), now);
        } else {
          readings.put(spec.id(), Reading.failed(ErrorClassifier.describe(ar.cause()), now));
          if (conn != null) conn.close();
          conn = null;
        }
        // While throttled (at start-up: until every sensor has a reading), decide at once rather
        // than at the next tick: a job starts as soon as its sensors allow it (up to 400 ms sooner).
        if (decision.throttled()) decide();
      });
    }

    /** {@link #read}, failed with {@link DatabaseStalled} and its session reset when it has no answer in time. */
    private Future<Double> timed() {
      if (spec.kind() == SensorSpec.Kind.LOAD_AVERAGE) return read();
      long start = System.nanoTime();
      return unlessSilent(config.timeout(), read(), () -> {
        silences++;
        if (conn != null) ConnectionReset.reset(conn);
        conn = null;
        return new DatabaseStalled(String.format(java.util.Locale.ROOT, "the %s stalled: no answer for %.1f s while reading "
            + "the %s (health.timeoutMs %d, twice that); the sensor's session was reset", spec.database(), (System.nanoTime() - start) / 1e9,
            spec.kind().label, config.timeout().toMillis()));
      });
    }

    private Future<Double> read() {
      if (spec.kind() == SensorSpec.Kind.LOAD_AVERAGE) {
        return vertx.fileSystem().readFile("/proc/loadavg").map(b -> Double.parseDouble(b.toString().trim().split("\\s+")[0]));
      }
      // The probe times the query alone: a (re)connection is not the database's latency.
      return connection().compose(c -> {
        if (!spec.database().equals("target")) sourceStatements.incrementAndGet();
        long t0 = clock.getAsLong();
        return c.query(SensorQueries.sql(spec)).execute().map(rows -> {
          if (spec.kind() == SensorSpec.Kind.PROBE || spec.kind() == SensorSpec.Kind.FOREGROUND_PROBE) return (clock.getAsLong() - t0) / 1e6;
          return rows.iterator().next().getDouble(0);
        });
      });
    }

    private Future<PgConnection> connection() {
      if (conn != null) return Future.succeededFuture(conn);
      DatabaseConfig db = spec.database().equals("target") ? target : source;
      SessionLimits limits = new SessionLimits(config.timeout(), config.timeout());
      int silent = silences;
      return Databases.connect(vertx, db, "sluice-sensor", limits).map(c -> {
        if (silent != silences || retired) { // opened after its poll went silent (or the loop retired): not kept
          c.close();
          return c;
        }
        conn = c;
        return c;
      });
    }
  }
}
