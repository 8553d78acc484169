package dev.sluice.capture;

import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.SegmentState;
import dev.sluice.pace.Pacer;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails a job's changelog on the source and applies it to the target. One applier per job among all
 * agents ({@link ApplierLock}: a session advisory lock on its own source connection, which also
 * LISTENs for the trigger's NOTIFY; a poll timer is the fallback).
 *
 * <p>The race with the copier: a copier batch comes from a snapshot that may be older than a row the
 * applier just wrote, and would overwrite it (or undo a delete). So each cycle FIRST reads a batch of
 * entries, THEN reads the segments' states from the ledger (a segment is marked copying, committed,
 * before its copier opens its snapshot), and then per entry, by the segment its key falls in:
 *
 * <ul>
 *   <li>copying or copied: deferred (left in the changelog until the segment is verified);
 *   <li>pending: dropped, since the segment's copy will start from a later snapshot that has it (a
 *       stale row left in the range by an earlier attempt fails verification and is re-copied);
 *   <li>verified or failed: applied: keys are folded, their current rows re-read and upserted, keys
 *       no longer in the source (or no longer matching {@code where}) deleted; then exactly the
 *       applied entries are deleted from the changelog.
 * </ul>
 *
 * <p>Entries are read in id order from a cursor, so deferred entries do not block the rest; a short
 * read ends a lap and the next wake-up starts again from the first entry.
 * Keys this agent's WAL reader hands over in memory ({@link DirectKeys}) follow the same rules, in
 * turn with the changelog's batches; those of segments copying or copied go into the changelog.
 *
 * <p>Every statement runs on the appliers' own pools and is timed ({@link WatchedPool}): a database
 * that stops answering fails the batch after {@code sessions.stallTimeoutMs}, its connections are
 * reset, and the batch is applied again on fresh ones; nothing it held was deleted or confirmed.
 */
public final class ChangeApplier {
  private static final Logger log = LoggerFactory.getLogger(ChangeApplier.class);

  private final Vertx vertx;
  private final JobShape shape;
  private final String job;
  private final WatchedPool source;
  private final WatchedPool target;
  private final ConsistencyLedger ledger;
  private final KeySync sync;
  private final CaptureSql sql;
  private final Pacer pacer;
  private final int batchRows;
  private final long pollMs;
  private final KeyLanes lanes;
  private volatile BooleanSupplier paused = () -> false;
  private io.vertx.core.Context ctx;
  private final List<ChangeApplied> listeners = new CopyOnWriteArrayList<>();

  private final PlacedChangelog changelog;
  private final BacklogGauge gauge;
  private final ApplierLock lock;
  private volatile int holds;
  private long pollTimer = -1;
  private long backlogTimer = -1;
  private long cursor;
  private Future<List<PlacedChangelog.Entry>> prefetched;
  private boolean running;
  private boolean again;
  private volatile boolean stopping;
  private volatile long applied;
  private volatile long deferred;
  private volatile String lastError;
  private volatile boolean failing; // the latest batch (or lock attempt) failed: lastError says why; see Backlog
  private Promise<Void> idle = Promise.promise();
  /** Keys this agent's WAL reader hands over in memory (logical mode); taken while the applier leads and runs. */
  private final DirectKeys direct = new DirectKeys(this::takesHanded, this::wake);

  /**
   * {@code source}, {@code target}: the appliers' own pools, every statement timed ({@link WatchedPool});
   * {@code ledger} on {@code target}'s pool; {@code listen} opens the connection that holds the lock.
   */
  public ChangeApplier(Vertx vertx, JobShape shape, WatchedPool source, Supplier<Future<PgConnection>> listen, ConsistencyLedger ledger,
      WatchedPool target, Pacer pacer) {
    this.vertx = vertx;
    this.shape = shape;
    this.job = shape.job().name();
    this.source = source;
    this.target = target;
    this.ledger = ledger;
    this.sync = new KeySync(shape, source, target);
    this.sql = new CaptureSql(shape);
    this.changelog = new PlacedChangelog(job, shape.keyTypes().size(), source, target, ledger, sql);
    this.gauge = new BacklogGauge(job, source, sql);
    this.lock = new ApplierLock(job, sql, listen, source, this::wake, () -> stopping, why -> { if (why != null) lastError = why; failing = why != null; },
        () -> ApplierLock.claimEpoch(target, job).map(e -> {
          sync.fenceEpoch(e);
          return null;
        }));
    this.pacer = pacer;
    this.batchRows = shape.job().capture().batchRows();
    this.pollMs = shape.job().capture().pollInterval().toMillis();
    this.lanes = new KeyLanes(shape.job().concurrencyMax());
    idle.complete();
  }

  /**
   * Connections {@code job}'s applier may use at once in the appliers' pool to the source: a statement
   * a lane ({@link KeyLanes}), the next batch's read, the backlog's measure.
   */
  public static int sourceConnections(dev.sluice.config.JobConfig job) {
    return KeyLanes.lanes(job.concurrencyMax()) + 2;
  }

  /** The same to the target: a write a lane, and a statement on the ledger. */
  public static int targetConnections(dev.sluice.config.JobConfig job) {
    return KeyLanes.lanes(job.concurrencyMax()) + 1;
  }

  /** The applier idles while {@code paused} says so (the job is paused). */
  public void pausedWhen(BooleanSupplier paused) {
    this.paused = paused;
  }

  public void addListener(ChangeApplied l) {
    listeners.add(l);
  }

  public KeySync keySync() {
    return sync;
  }

  /** Where this agent's WAL reader hands its keys over, in memory ({@link DirectKeys}). */
  public KeyHandoff handoff() {
    return direct;
  }

  /**
   * Backlog as last measured: entries waiting (-1 before the first measure) and the oldest one's age;
   * {@code lastError}: why a batch (or taking the lock) last failed on this agent, null if never;
   * {@code failing}: the latest one failed, until a batch goes through (or another agent is found applying); a paused job's
   * applier tries no batch, so it stays failing while paused.
   */
  public record Backlog(long rows, long oldestAgeMs, long applied, long deferred, boolean leader, String lastError, boolean failing) {
    public io.vertx.core.json.JsonObject json() {
      return new io.vertx.core.json.JsonObject().put("backlogRows", rows < 0 ? null : rows).put("oldestChangeAgeMs", oldestAgeMs)
          .put("keysApplied", applied).put("deferredEntries", deferred).put("applier", leader).put("lastApplierError", lastError)
          .put("applierFailing", failing);
    }
  }

  public Backlog backlog() {
    return new Backlog(gauge.rows(), gauge.oldestAgeMs(), applied, deferred, lock.held(), lastError, failing);
  }

  public Future<Void> start() {
    ctx = vertx.getOrCreateContext();
    return changelog.load().compose(v -> {
      backlogTimer = vertx.setPeriodic(1000, t -> gauge.measure());
      pollTimer = vertx.setPeriodic(pollMs, t -> {
        if (lock.held()) wake();
        else lock.take();
      });
      lock.take();
      return gauge.measure();
    });
  }

  private boolean takesHanded() {
    return lock.held() && !stopping && !paused.getAsBoolean() && holds == 0;
  }

  /** Starts a cycle now, or right after the running one. */
  public void wake() {
    ctx.runOnContext(v -> {
      if (stopping || !lock.held()) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      idle = Promise.promise();
      loop();
    });
  }

  /**
   * Runs {@code work} while this applier applies nothing: once the cycle in flight has ended, and with
   * no cycle started until {@code work} completes (then it catches up). Verification uses it to
   * compare and repair keys without a change being applied between its reads and its writes.
   */
  public <T> Future<T> whileHeld(Supplier<Future<T>> work) {
    if (ctx == null) return work.get(); // never started: nothing applies
    Promise<T> done = Promise.promise();
    ctx.runOnContext(v -> {
      holds++;
      idle.future().transform(x -> work.get()).onComplete(ar -> {
        if (--holds == 0) wake();
        done.handle(ar);
      });
    });
    return done.future();
  }

  private void loop() {
    again = false;
    boolean held = paused.getAsBoolean() || holds > 0;
    if (held) direct.refuseAll();
    DirectKeys.Batch handed = held ? null : direct.next();
    Future<Boolean> cycle = held ? Future.succeededFuture(false) : handed != null ? applyHanded(handed) : cycle();
    cycle.onComplete(ar -> {
      boolean more = ar.succeeded() && ar.result();
      // A turn held (paused) tried nothing: the applier is as failing as it was. Standing down is no failure.
      if (!held) failing = ar.failed() && !(ar.cause() instanceof KeySync.ApplierSuperseded);
      if (ar.failed()) {
        if (ar.cause() instanceof KeySync.ApplierSuperseded) {
          // Another agent took the lock (this one's session ended) and applies now: stand down, and
          // try again for the lock at the next poll.
          lastError = ar.cause().getMessage();
          log.warn("{}", lastError);
          sync.fenceEpoch(null);
          lock.release();
        } else if (ar.cause() instanceof KeySync.JobFenced) {
          stopping = true;
        } else if (ar.cause() instanceof io.vertx.pgclient.PgException pg && "42P01".equals(pg.getSqlState())) {
          // The changelog is gone: a rollback or cleanup removed capture. Nothing is left to apply.
          log.info("job {}: changelog {} removed; the applier stops", job, sql.changelog());
          stopping = true;
        } else {
          lastError = ErrorClassifier.describe(ar.cause());
          log.warn("job {}: applying captured changes failed (will retry): {}", job, lastError);
        }
      }
      if (!stopping && (more || again || direct.waiting()) && ar.succeeded()) {
        loop();
        return;
      }
      if (stopping) direct.refuseAll();
      running = false;
      idle.tryComplete();
    });
  }

  /**
   * One batch. Returns true when there is more to read right away. While a full batch is applied,
   * the next one is read (its segments' states are read later, after this batch is applied, so the
   * order the race argument needs, entries before states, holds for it too).
   */
  private Future<Boolean> cycle() {
    Future<List<PlacedChangelog.Entry>> batch = prefetched != null ? prefetched : changelog.read(cursor, batchRows);
    prefetched = null;
    return batch.compose(entries -> {
      boolean full = entries.size() == batchRows;
      if (entries.isEmpty()) {
        cursor = 0;
        return Future.succeededFuture(false);
      }
      long last = entries.get(entries.size() - 1).id();
      // Segment states are read after the entries: see the class comment.
      return states().compose(states -> {
        if (!changelog.placesAmong(states.keySet())) {
          // Segments were cut or re-planned since the bounds were read: map these entries again.
          return changelog.load().map(true);
        }
        if (full) prefetched = changelog.read(last, batchRows);
        return apply(entries, states, null).map(v -> {
          cursor = full ? last : 0;
          return full;
        });
      });
    }).onFailure(e -> prefetched = null);
  }

  /** A batch handed over by this agent's WAL reader: applied in parts of {@code batchRows} keys, then the reader hears the outcome. */
  private Future<Boolean> applyHanded(DirectKeys.Batch batch) {
    List<List<String>> keys = new ArrayList<>(batch.keys.keySet());
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < keys.size(); from += batchRows) {
      List<List<String>> part = keys.subList(from, Math.min(keys.size(), from + batchRows));
      chain = chain.compose(v -> applyHanded(part, batch.keys, true));
    }
    return chain.onComplete(ar -> batch.finish(ar.succeeded())).map(v -> direct.waiting());
  }

  /** Keys placed in their segments (the keys are in hand before the states are read, as entries are read first in a cycle). */
  private Future<Void> applyHanded(List<List<String>> keys, Map<List<String>, Long> times, boolean mayReload) {
    return changelog.place(keys).compose(entries -> states().compose(states -> {
      if (changelog.placesAmong(states.keySet())) return apply(entries, states, times);
      if (!mayReload) return Future.failedFuture("job " + job + ": its segments changed twice while keys were placed");
      return changelog.load().compose(v -> applyHanded(keys, times, false));
    }));
  }

  /** Applies entries by their segments' states; {@code handed}: null for changelog entries, else the handed keys' change times. */
  private Future<Void> apply(List<PlacedChangelog.Entry> entries, Map<Integer, SegmentState> states, Map<List<String>, Long> handed) {
    List<Long> done = new ArrayList<>();
    List<List<String>> later = new ArrayList<>();
    Set<List<String>> keys = new LinkedHashSet<>();
    Map<Integer, Long> perSegment = new LinkedHashMap<>();
    Map<Integer, Long> seen = new LinkedHashMap<>();
    long held = 0;
    for (PlacedChangelog.Entry e : entries) {
      int seq = e.seq();
      SegmentState st = states.get(seq);
      if (st == SegmentState.ROLLING_BACK || st == SegmentState.ROLLED_BACK) return Future.failedFuture(new KeySync.JobFenced(job));
      if (st == SegmentState.COPYING || st == SegmentState.COPIED) {
        held++;
        later.add(e.key());
        continue;
      }
      done.add(e.id());
      seen.merge(seq, 1L, Long::sum); // pending too: the cold-first order's evidence (job.HeatRanker)
      if (st == SegmentState.PENDING) continue;
      keys.add(e.key());
      perSegment.merge(seq, 1L, Long::sum);
    }
    if (handed == null) deferred = held;
    if (done.isEmpty() && (handed == null || later.isEmpty())) return Future.succeededFuture();
    List<List<String>> list = new ArrayList<>(keys);
    Future<Void> written = list.isEmpty() ? Future.succeededFuture()
        : pacer.acquire(list.size())
            .compose(v -> notifyListeners(list))
            .compose(v -> lanes.sync(sync, list));
    return written
        .compose(v -> clear(done, later, handed))
        .compose(v -> {
          applied += list.size();
          return target.timed("counting applied keys", () -> ledger.noteApplied(job, perSegment)).otherwiseEmpty()
              .compose(x -> target.timed("counting seen keys", () -> ledger.noteSeen(job, seen)).otherwiseEmpty());
        });
  }

  /** The segments' states, from the ledger. */
  private Future<Map<Integer, SegmentState>> states() {
    return target.timed("reading the segments' states", () -> ledger.states(job));
  }

  /** Changelog entries applied or dropped are deleted; handed keys to apply later are recorded. */
  private Future<Void> clear(List<Long> done, List<List<String>> later, Map<List<String>, Long> handed) {
    if (handed == null) {
      Tuple ids = Tuple.of(done.toArray(new Long[0]));
      return source.timed("deleting applied entries", () -> source.pool().preparedQuery(sql.deleteEntries()).execute(ids)).mapEmpty();
    }
    if (later.isEmpty()) return Future.succeededFuture();
    List<Long> times = new ArrayList<>();
    long now = System.currentTimeMillis() * 1000 - PgOutput.PG_EPOCH_MICROS;
    for (List<String> k : later) times.add(handed.getOrDefault(k, now));
    return changelog.record(later, times);
  }

  private Future<Void> notifyListeners(List<List<String>> keys) {
    Future<Void> chain = Future.succeededFuture();
    for (ChangeApplied l : listeners) chain = chain.compose(v -> l.beforeApplied(job, keys));
    return chain;
  }

  /** Applies what is waiting now, until a short read (used before completing). */
  public Future<Void> drain() {
    Promise<Void> p = Promise.promise();
    ctx.runOnContext(v -> {
      wake();
      vertx.setTimer(1, x -> idle.future().onComplete(y -> gauge.measure().onComplete(z -> p.complete())));
    });
    return p.future();
  }

  /** Starts again after {@link #stop} (a failed job's segments re-queued); changes captured meanwhile wait in the changelog. */
  public Future<Void> restart() {
    if (!stopping) return Future.succeededFuture();
    stopping = false;
    return start();
  }

  /** Stops after the current batch; the lock is released with the connection. */
  public Future<Void> stop() {
    stopping = true;
    direct.refuseAll();
    if (pollTimer >= 0) vertx.cancelTimer(pollTimer);
    if (backlogTimer >= 0) vertx.cancelTimer(backlogTimer);
    Promise<Void> p = Promise.promise();
    ctx.runOnContext(v -> idle.future().onComplete(x -> lock.release().onComplete(y -> p.complete())));
    return p.future();
  }
}
