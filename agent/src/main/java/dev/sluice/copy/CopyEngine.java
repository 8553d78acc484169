package dev.sluice.copy;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.DatabaseStalled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The COPY path of one job: segments stream from the source's snapshot into the target with the
 * COPY protocol ({@link CopyPipe}), their rows hashed as they pass, and a segment's target rows are
 * read back with COPY and hashed the same way ({@link #targetSum}) to prove it.
 *
 * <p>Blocking driver calls run on a worker pool of the engine's own, two threads a segment and one
 * a read-back; at most {@code maxPipes} segments and as many read-backs hold them at once, the rest
 * wait their turn without blocking anything. Per segment at most {@code bufferBytes} of row data are in memory.
 */
public final class CopyEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CopyEngine.class);

  /** What a pipe needs of its engine. */
  record Setup(CopySql sql, CopySessions source, CopySessions target, WorkerExecutor workers, String agentId, int bufferBytes,
      Duration stallTimeout) {}

  /**
   * {@code bufferBytes}: row bytes in flight per segment; {@code maxPipes}: segments streaming at
   * once; {@code statementTimeout}, {@code idleTimeout}: the COPY sessions' server-side caps (one
   * COPY statement streams a whole segment); {@code stallTimeout}: how long a stream may wait on a
   * database that answers nothing before its sessions are aborted ({@link StallWatch}).
   */
  public record Settings(int bufferBytes, int maxPipes, Duration statementTimeout, Duration idleTimeout, Duration stallTimeout, int nice) {
    /** At the server's own priority ({@code sessions.nice} 0). */
    public Settings(int bufferBytes, int maxPipes, Duration statementTimeout, Duration idleTimeout, Duration stallTimeout) {
      this(bufferBytes, maxPipes, statementTimeout, idleTimeout, stallTimeout, 0);
    }
  }

  private final Vertx vertx;
  private final Setup setup;
  private final WorkerExecutor workers;
  private final LongSupplier clock;
  /** Segments streaming at once. */
  private final CopySlots pipes;
  /**
   * Ranges read back at once: apart from the streams, so a segment's read-back runs while the next
   * segment streams (a worker claims the next one once a copy has committed).
   */
  private final CopySlots readBacks;

  /** {@code clock}: the job's monotonic clock (ns), which times the read-backs' waits ({@link StallWatch}). */
  public CopyEngine(Vertx vertx, JobShape shape, DatabaseConfig source, DatabaseConfig target, String agentId, Settings s,
      LongSupplier clock) {
    this.vertx = vertx;
    this.clock = clock;
    this.pipes = new CopySlots(s.maxPipes());
    this.readBacks = new CopySlots(s.maxPipes());
    // Named for the job alone: the pool_name of its vertx_pool_* metrics is the same at every start.
    // Two threads a stream and one a read-back.
    this.workers = vertx.createSharedWorkerExecutor("sluice-copy-" + shape.job().name(), 3 * s.maxPipes(), 1, TimeUnit.HOURS);
    this.setup = new Setup(new CopySql(shape),
        new CopySessions(source, "sluice-copy-source", s.statementTimeout(), s.idleTimeout(), s.stallTimeout(), s.nice()),
        new CopySessions(target, "sluice-copy-target", s.statementTimeout(), s.idleTimeout(), s.stallTimeout(), s.nice()),
        workers, agentId, s.bufferBytes(), s.stallTimeout());
  }

  public CopySql sql() {
    return setup.sql();
  }

  /**
   * Copies a segment; {@code purgeFirst} deletes what an earlier attempt left in the target range,
   * in the COPY's transaction. A first attempt (nothing wrote into the range before) COPYs into it
   * as it is; if a row is there after all (23505: a failed segment's keys applied by the change
   * applier, a row written by hand), the segment is copied again from a fresh snapshot, purging first.
   */
  public Future<SegmentCopier.Result> copy(Segment seg, boolean purgeFirst, SegmentCopier.Control control) {
    Future<SegmentCopier.Result> first = pipe(seg, purgeFirst, control);
    if (purgeFirst) return first;
    return first.recover(e -> {
      if (!SegmentCopier.isUniqueViolation(e)) return Future.failedFuture(e);
      log.info("job {} segment {}: a row was already in the target range ({}); purging it and copying again", seg.job(), seg.seq(),
          e.getMessage());
      return pipe(seg, true, control);
    });
  }

  private Future<SegmentCopier.Result> pipe(Segment seg, boolean purge, SegmentCopier.Control control) {
    return onContext(ctx -> pipes.take(ctx).compose(v -> new CopyPipe(setup, ctx, seg, purge, control).run().eventually(pipes::release)));
  }

  /** Runs {@code f} on the caller's Vert.x context, or on a new one when called from elsewhere (a test, the CLI). */
  private <T> Future<T> onContext(Function<Context, Future<T>> f) {
    Context current = Vertx.currentContext();
    if (current != null) return f.apply(current);
    Context ctx = vertx.getOrCreateContext();
    Promise<T> p = Promise.promise();
    ctx.runOnContext(v -> f.apply(ctx).onComplete(p));
    return p.future();
  }

  /**
   * Opens a session to each side ahead of the first segment, on the engine's workers: their start-up
   * (connection, authentication, TLS, the driver's first use in this process) then overlaps the job's
   * planning instead of delaying its first segment. Best effort: a side that cannot be reached now is
   * the first segment's to report, with its retries.
   */
  public void warm() {
    for (CopySessions sessions : List.of(setup.source(), setup.target())) {
      workers.executeBlocking(() -> {
        sessions.give(sessions.take());
        return null;
      }, false).onFailure(e -> log.debug("warming a COPY session: {}", e.toString()));
    }
  }

  /** The target range's stored rows, read back with COPY and hashed as the copy hashed the source's. */
  public Future<CopyPath.Sum> targetSum(KeyRange r) {
    return sum(setup.target(), StallWatch.Side.TARGET, setup.sql().targetFingerprint(r));
  }

  /** The source range's rows as they are now (a fresh fingerprint, for a segment that changed since its copy). */
  public Future<CopyPath.Sum> sourceSum(KeyRange r) {
    return sum(setup.source(), StallWatch.Side.SOURCE, setup.sql().sourceFingerprint(r));
  }

  /** Reads {@code copy} and hashes its rows; a database that stops answering fails it after the stall timeout. */
  private Future<CopyPath.Sum> sum(CopySessions sessions, StallWatch.Side side, String copy) {
    return onContext(ctx -> readBacks.take(ctx).compose(v -> {
      StallWatch watch = new StallWatch(setup.stallTimeout().toNanos());
      StallWatch.Probe probe = watch.probe(side);
      AtomicReference<Connection> session = new AtomicReference<>();
      AtomicReference<String> stalled = new AtomicReference<>();
      Runnable unwatch = watchdog(ctx, watch, clock, stall -> {
        if (!stalled.compareAndSet(null, stall.reason())) return;
        log.warn("reading back a range: {}", stall.reason());
        Connection c = session.getAndSet(null);
        if (c != null) CopySessions.abort(c, CopySessions.APART);
      });
      return workers.executeBlocking(() -> {
        try {
          probe.waiting("opening a session");
          return sum(sessions, probe, session, copy);
        } finally {
          probe.idle();
        }
      }, false).transform(ar -> {
        unwatch.run();
        if (stalled.get() == null) return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause());
        DatabaseStalled why = new DatabaseStalled(stalled.get());
        return Future.<CopyPath.Sum>failedFuture(side == StallWatch.Side.SOURCE ? new SegmentCopier.SourceFailure(why) : why);
      }).eventually(readBacks::release);
    }));
  }

  private static CopyPath.Sum sum(CopySessions sessions, StallWatch.Probe probe, AtomicReference<Connection> session, String copy)
      throws Exception {
    Connection c = sessions.take();
    session.set(c);
    boolean clean = false;
    try {
      probe.waiting("reading back the range's rows");
      CopyOut out = c.unwrap(PGConnection.class).getCopyAPI().copyOut(copy);
      long rows = 0;
      long hash = 0;
      byte[] row;
      while ((row = out.readFromCopy()) != null) {
        probe.progress();
        rows++;
        hash += CopyText.rowHash(row, 0, row.length);
      }
      clean = true;
      return new CopyPath.Sum(rows, hash);
    } catch (Exception e) {
      if (CopyErrors.translate(e) instanceof RuntimeException r) throw r;
      throw e;
    } finally {
      if (session.compareAndSet(c, null) && clean) {
        sessions.give(c);
      } else {
        CopySessions.quietly(c);
      }
    }
  }

  /**
   * Asks {@code watch} every tick, on {@code clock}, until the returned action cancels it; a stall
   * goes to {@code onStall} on {@code ctx} (at each tick while it lasts: the first one acts). Only
   * reads volatile fields: never blocks.
   */
  static Runnable watchdog(Context ctx, StallWatch watch, LongSupplier clock, Consumer<StallWatch.Stall> onStall) {
    long timer = ctx.owner().setPeriodic(watch.tickMs(), id -> {
      StallWatch.Stall stall = watch.check(clock.getAsLong());
      if (stall != null) ctx.runOnContext(v -> onStall.accept(stall));
    });
    return () -> ctx.owner().cancelTimer(timer);
  }

  @Override
  public void close() {
    setup.source().close();
    setup.target().close();
    workers.close();
  }
}
