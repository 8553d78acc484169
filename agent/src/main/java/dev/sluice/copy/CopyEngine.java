package dev.sluice.copy;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The COPY path of one job: segments stream from the source's snapshot into the target with the
 * COPY protocol ({@link CopyPipe}), their rows hashed as they pass, and a segment's target rows are
 * read back with COPY and hashed the same way ({@link #targetSum}) to prove it.
 *
 * <p>Blocking driver calls run on a worker pool of the engine's own, two threads a segment; at
 * most {@code maxPipes} segments (and read-backs) hold them at once, the rest wait their turn
 * without blocking anything. Per segment at most {@code bufferBytes} of row data are in memory.
 */
public final class CopyEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CopyEngine.class);

  /** What a pipe needs of its engine. */
  record Setup(CopySql sql, CopySessions source, CopySessions target, WorkerExecutor workers, String agentId, int bufferBytes) {}

  /**
   * {@code bufferBytes}: row bytes in flight per segment; {@code maxPipes}: segments streaming at
   * once; {@code statementTimeout}, {@code idleTimeout}: the COPY sessions' server-side caps (one
   * COPY statement streams a whole segment).
   */
  public record Settings(int bufferBytes, int maxPipes, Duration statementTimeout, Duration idleTimeout) {}

  private final Vertx vertx;
  private final Setup setup;
  private final WorkerExecutor workers;
  private final Deque<Runnable> waiting = new ArrayDeque<>();
  private int free;

  public CopyEngine(Vertx vertx, JobShape shape, DatabaseConfig source, DatabaseConfig target, String agentId, Settings s) {
    this.vertx = vertx;
    this.free = s.maxPipes();
    // Named for the job alone: the pool_name of its vertx_pool_* metrics is the same at every start.
    this.workers = vertx.createSharedWorkerExecutor("sluice-copy-" + shape.job().name(), 2 * s.maxPipes(), 1, TimeUnit.HOURS);
    this.setup = new Setup(new CopySql(shape),
        new CopySessions(source, "sluice-copy-source", s.statementTimeout(), s.idleTimeout()),
        new CopySessions(target, "sluice-copy-target", s.statementTimeout(), s.idleTimeout()),
        workers, agentId, s.bufferBytes());
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
    return onContext(ctx -> slot(ctx).compose(v -> new CopyPipe(setup, ctx, seg, purge, control).run().eventually(this::release)));
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

  /** The target range's stored rows, read back with COPY and hashed as the copy hashed the source's. */
  public Future<CopyPath.Sum> targetSum(KeyRange r) {
    return sum(setup.target(), setup.sql().targetFingerprint(r));
  }

  /** The source range's rows as they are now (a fresh fingerprint, for a segment that changed since its copy). */
  public Future<CopyPath.Sum> sourceSum(KeyRange r) {
    return sum(setup.source(), setup.sql().sourceFingerprint(r));
  }

  private Future<CopyPath.Sum> sum(CopySessions sessions, String copy) {
    return onContext(ctx -> slot(ctx).compose(v -> workers.executeBlocking(() -> {
      Connection c = sessions.take();
      boolean clean = false;
      try {
        CopyOut out = c.unwrap(PGConnection.class).getCopyAPI().copyOut(copy);
        long rows = 0;
        long hash = 0;
        byte[] row;
        while ((row = out.readFromCopy()) != null) {
          rows++;
          hash += CopyText.rowHash(row, 0, row.length);
        }
        clean = true;
        return new CopyPath.Sum(rows, hash);
      } catch (Exception e) {
        if (CopyErrors.translate(e) instanceof RuntimeException r) throw r;
        throw e;
      } finally {
        if (clean) {
          sessions.give(c);
        } else {
          CopySessions.quietly(c);
        }
      }
    }, false).eventually(this::release)));
  }

  private Future<Void> slot(Context ctx) {
    synchronized (this) {
      if (free > 0) {
        free--;
        return Future.succeededFuture();
      }
      Promise<Void> p = Promise.promise();
      waiting.add(() -> ctx.runOnContext(v -> p.complete()));
      return p.future();
    }
  }

  private Future<Void> release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) free++;
    }
    if (next != null) next.run();
    return Future.succeededFuture();
  }

  @Override
  public void close() {
    setup.source().close();
    setup.target().close();
    workers.close();
  }
}
