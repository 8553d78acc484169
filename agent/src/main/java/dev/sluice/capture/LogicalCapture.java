package dev.sluice.capture;

import dev.sluice.resilience.Backoff;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import dev.sluice.db.ConnectionSettings;
import io.vertx.sqlclient.Pool;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's capture from the write-ahead log, on the agent that reads its slot: the Vert.x shell
 * around a {@link WalReader} (its own thread) and the slot's risk ({@link SlotRisk}). It starts the
 * reader, watches it for a stall (a timer asks {@link WalReader#watch}: a statement on its capture
 * session unanswered for the stall timeout), starts another after a failure (with backoff), and once
 * a second reads the slot's state on the source: the WAL it retains, which decides throttle, pause or
 * drop, and whether the source invalidated it. A dropped slot is created afresh at once, and its owner is told, so that what the
 * old slot covered is verified again. Everything it tells its owner arrives on its Vert.x context.
 */
public final class LogicalCapture {
  private static final Logger log = LoggerFactory.getLogger(LogicalCapture.class);

  /** The reader's settings, the slot's limits, and how often the slot's state is read. */
  public record Settings(WalReader.Settings reader, SlotRisk.Limits limits, Duration statusInterval) {}

  /** What the owner (the job) hears. */
  public interface Events {
    /** The slot was dropped (its limit, or the source invalidated it) and created afresh: changes it held are lost. */
    void slotReplaced(String reason);

    /** The source table was truncated: rows are gone that no captured key names. */
    void truncated();

    /** The stream cannot capture the table (e.g. its replica identity no longer covers the key); retried meanwhile. */
    void unusable(String reason);

    /**
     * Asked before a lost slot is created afresh: false when the job no longer captures (a rollback
     * or the completion dropped the slot), and this capture then stops instead.
     */
    default Future<Boolean> stillCapturing() {
      return Future.succeededFuture(true);
    }
  }

  private final Vertx vertx;
  private final Clock clock;
  private final LongSupplier nanos;
  private final String job;
  private final String tableSql;
  private final String namespace;
  private final String table;
  private final List<String> key;
  private final Pool source;
  private final ConnectionSettings options;
  private final Settings settings;
  private final Events events;
  private final KeyHandoff handoff;
  private final Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), () -> ThreadLocalRandom.current().nextDouble());
  private Context ctx;
  private WalReader reader;
  private int tableOid;
  private int failures;
  private long statusTimer = -1;
  private long watchTimer = -1;
  private boolean replacing;
  private volatile boolean running;
  private volatile SlotRisk.Decision decision = new SlotRisk.Decision(SlotRisk.Action.NONE, 1.0, null);
  private volatile LogicalSlot.Status status;
  private volatile String lastError;
  private volatile long recordedBefore;
  private volatile double keysPerSecond;
  private long lastRecorded;
  private long lastRateNanos;

  /**
   * {@code namespace} and {@code table}: the source table as the server names it (pgoutput's
   * relation names); {@code tableSql}: the same, quoted; {@code key}: the job's key columns;
   * {@code clock} times the reader's lag, {@code nanos} the keys/s and the reader's idle and status timers.
   */
  public LogicalCapture(Vertx vertx, String job, String namespace, String table, String tableSql, List<String> key, Pool source,
      ConnectionSettings options, Settings settings, Events events, Clock clock, LongSupplier nanos) {
    this(vertx, job, namespace, table, tableSql, key, source, options, settings, events, clock, nanos, KeyHandoff.NONE);
  }

  /** {@code handoff}: where the reader hands keys first (this agent's applier); the rest goes to the changelog. */
  public LogicalCapture(Vertx vertx, String job, String namespace, String table, String tableSql, List<String> key, Pool source,
      ConnectionSettings options, Settings settings, Events events, Clock clock, LongSupplier nanos, KeyHandoff handoff) {
    this.handoff = handoff;
    this.vertx = vertx;
    this.clock = clock;
    this.nanos = nanos;
    this.job = job;
    this.namespace = namespace;
    this.table = table;
    this.tableSql = tableSql;
    this.key = List.copyOf(key);
    this.source = source;
    this.options = options;
    this.settings = settings;
    this.events = events;
  }

  /** Starts reading the slot (the caller made sure it exists: {@link LogicalSlot#ensure}) and watching it. */
  public void start() {
    ctx = vertx.getOrCreateContext();
    ctx.runOnContext(v -> {
      running = true;
      lastRateNanos = nanos.getAsLong();
      startReader();
      statusTimer = vertx.setPeriodic(settings.statusInterval().toMillis(), t -> watch());
      watchTimer = vertx.setPeriodic(new StreamWatch(settings.reader().stallTimeout().toNanos()).tickMs(), t -> watchStream());
    });
  }

  private void startReader() {
    if (!running || replacing) return;
    if (tableOid != 0) {
      startReader(tableOid);
      return;
    }
    // The table's OID, once: a rename while the job runs changes the name pgoutput gives it, not its OID.
    source.preparedQuery("SELECT to_regclass($1)::oid::bigint").execute(io.vertx.sqlclient.Tuple.of(tableSql)).onComplete(ar -> {
      Long oid = ar.succeeded() ? ar.result().iterator().next().getLong(0) : null;
      if (oid != null) tableOid = (int) oid.longValue();
      else log.debug("job {}: the OID of {} is not known now: the WAL reader knows it by name", job, tableSql);
      startReader(tableOid);
    });
  }

  private void startReader(int oid) {
    if (!running || replacing || reader != null) return;
    WalReader r = new WalReader(options, job, new WalKeys(namespace, table, key, oid), settings.reader(), new WalReader.Listener() {
      @Override
      public void truncated(long lsn) {
        ctx.runOnContext(v -> events.truncated());
      }

      @Override
      public void failed(Throwable error) {
        ctx.runOnContext(v -> readerFailed(error));
      }
    }, nanos, handoff);
    reader = r;
    r.start();
  }

  /** Asks the reader whether a statement of its has gone unanswered for the stall timeout (it then aborts its sessions). */
  private void watchStream() {
    WalReader r = reader;
    if (r == null) return;
    String stall = r.watch(nanos.getAsLong());
    if (stall != null) log.warn("job {}: {}", job, stall);
  }

  private void readerFailed(Throwable e) {
    WalReader r = reader;
    if (r != null) recordedBefore += r.recorded();
    reader = null;
    if (!running) return;
    failures++;
    lastError = ErrorClassifier.describe(e);
    String state = e instanceof SQLException s ? s.getSQLState() : null;
    if (e instanceof WalKeys.Unusable u) {
      events.unusable(u.getMessage());
    } else if ("42704".equals(state) || isInvalidated(e)) {
      // The slot is gone (dropped by someone) or the source invalidated it: what it held is lost.
      replace(isInvalidated(e) ? "the source invalidated slot " + LogicalSlot.name(job) + ": " + e.getMessage()
          : "slot " + LogicalSlot.name(job) + " is gone from the source");
      return;
    }
    long delay = backoff.delayMs(failures) + 200;
    log.warn("job {}: reading the WAL failed (again in {} ms): {}", job, delay, lastError);
    vertx.setTimer(delay, t -> startReader());
  }

  private static boolean isInvalidated(Throwable e) {
    String m = e.getMessage();
    return m != null && (m.contains("can no longer get changes from replication slot") || m.contains("has been invalidated"));
  }

  /** Once a second: the slot's state, the decision on its retained WAL, and the keys/s. */
  private void watch() {
    WalReader r = reader;
    long now = nanos.getAsLong();
    long rec = recorded();
    keysPerSecond = (rec - lastRecorded) / Math.max(1e-9, (now - lastRateNanos) / 1e9);
    lastRecorded = rec;
    lastRateNanos = now;
    if (r != null && r.streaming()) failures = 0;
    LogicalSlot.status(source, job, tableSql).onSuccess(st -> {
      status = st;
      long retained = st.retainedBytes() == null ? 0 : st.retainedBytes();
      SlotRisk.Decision d = SlotRisk.decide(settings.limits(), LogicalSlot.name(job), retained, st.lost());
      if (d.action() != decision.action()) {
        if (d.reason() != null) log.warn("job {}: {}", job, d.reason());
        else log.info("job {}: slot {} back under its limits", job, LogicalSlot.name(job));
      }
      decision = d;
      if (d.action() == SlotRisk.Action.DROP) replace(d.reason());
      else if (!st.exists() && running && !replacing) replace("slot " + LogicalSlot.name(job) + " is gone from the source");
    }).onFailure(e -> log.debug("job {}: cannot read the slot's state: {}", job, ErrorClassifier.describe(e)));
  }

  /** Drops the slot (ending this reader first) and creates it afresh; the owner re-verifies what it covered. */
  private void replace(String reason) {
    if (replacing || !running) return;
    replacing = true;
    events.stillCapturing().otherwise(true).onSuccess(still -> {
      if (still) {
        log.error("job {}: dropping replication slot {}: {}; a new slot starts now and what the old one covered is verified again",
            job, LogicalSlot.name(job), reason);
        dropAndCreate(reason);
        return;
      }
      log.info("job {}: slot {} is gone and the job no longer captures: reading stops", job, LogicalSlot.name(job));
      running = false;
      replacing = false;
      cancelTimers();
      stopReader();
    });
  }

  private void dropAndCreate(String reason) {
    // The reader is not waited for: what it has not confirmed is verified again with the rest, and a
    // reader stuck on a statement must not hold the slot (and the source's disk) for its stop timeout.
    stopReader(true)
        .compose(v -> LogicalSlot.drop(source, job))
        .compose(v -> LogicalSlot.ensure(vertx, source, job, tableSql, SlotCreation.patient(vertx, options.with("application_name", "sluice-slot"),
            source, job)))
        .onComplete(ar -> {
          replacing = false;
          if (ar.failed()) {
            log.error("job {}: cannot replace slot {}: {} (trying again)", job, LogicalSlot.name(job), ErrorClassifier.describe(ar.cause()));
            vertx.setTimer(2000, t -> replace(reason));
            return;
          }
          decision = new SlotRisk.Decision(SlotRisk.Action.NONE, 1.0, null);
          events.slotReplaced(reason);
          startReader();
        });
  }

  private void cancelTimers() {
    if (statusTimer >= 0) vertx.cancelTimer(statusTimer);
    if (watchTimer >= 0) vertx.cancelTimer(watchTimer);
  }

  private Future<Void> stopReader() {
    return stopReader(false);
  }

  /** {@code abandon}: stop at once, recording and confirming nothing more ({@link WalReader#abandon}). */
  private Future<Void> stopReader(boolean abandon) {
    WalReader r = reader;
    reader = null;
    if (r == null) return Future.succeededFuture();
    return vertx.executeBlocking(() -> {
      if (abandon) r.abandon(Duration.ofSeconds(5));
      else r.stop(Duration.ofSeconds(30));
      recordedBefore += r.recorded();
      return null;
    }, false);
  }

  /** Stops reading (what was read is recorded and confirmed first); the slot stays for the next reader. */
  public Future<Void> stop() {
    running = false;
    cancelTimers();
    return stopReader();
  }

  /** The decision on the slot's retained WAL (throttle, pause or drop, and why). */
  public SlotRisk.Decision decision() {
    return decision;
  }

  /** The slot's state as last read, or null before the first read. */
  public LogicalSlot.Status status() {
    return status;
  }

  /** The position this agent's reader has confirmed (0 before its first), or -1 when it is not reading. */
  public long confirmedLsn() {
    WalReader r = reader;
    return r == null || !running ? -1 : r.confirmedLsn();
  }

  /** Keys recorded since this agent started reading. */
  public long recorded() {
    WalReader r = reader;
    return recordedBefore + (r == null ? 0 : r.recorded());
  }

  public double keysPerSecond() {
    return keysPerSecond;
  }

  /** How far the reader is behind the source, in ms (0 when caught up or not reading). */
  public long lagMillis() {
    WalReader r = reader;
    return r == null ? 0 : r.lagMillis(clock.millis());
  }

  /** True while a reader holds the slot's stream open. */
  public boolean reading() {
    WalReader r = reader;
    return r != null && r.streaming();
  }

  /** The figures the API, the dashboard and the metrics show. */
  public WalFigures figures() {
    LogicalSlot.Status st = status;
    return new WalFigures(LogicalSlot.name(job), true, reading(), keysPerSecond, lagMillis() / 1000.0,
        st == null ? null : st.retainedBytes(), decision, lastError);
  }

  /** The last reader failure, or null. */
  public String lastError() {
    return lastError;
  }
}
