package dev.sluice.job;

import dev.sluice.copy.CopyPath;
import dev.sluice.copy.SegmentCopier;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Segment;
import dev.sluice.ledger.SegmentBounds;
import dev.sluice.plan.KeyRange;
import dev.sluice.plan.Planner;
import dev.sluice.resilience.Backoff;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.verify.Bisector;
import dev.sluice.verify.DataDrift;
import dev.sluice.verify.Verifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One claimed segment through copy and verification, with its retries.
 *
 * <p>A copy cut short (gate closed, or the transaction time cap) splits the segment in the ledger:
 * this run keeps and verifies the part copied, the rest is a new pending segment. Transient errors
 * are retried with full-jitter backoff; a retry waits for the job's gate, and an attempt that failed
 * because a database's circuit breaker is open does not count toward {@code retry.maxAttempts}.
 * A server-side copy that outruns the statement cap is split in half and retried.
 * Permanent errors park the segment with the error and the offending key. A verification mismatch
 * re-copies once from a clean range, then parks.
 */
final class SegmentRun {
  private static final Logger log = LoggerFactory.getLogger(SegmentRun.class);

  /** A segment's run needs the job's copy path, verifier (for bisecting), pools and ledger, and these few things of its job. */
  interface Job {
    /** Completes when the job's gate is open (a retry waits for it). */
    Future<Void> whenOpen();

    /** The retry policy in force ({@code retry.maxAttempts} and the backoff; a reload may change it). */
    Retries retries();

    boolean stopping();

    /** The segment verified: listeners (the read cache) hear of it. */
    void verified(Segment seg);

    /** A segment was parked failed: the job checks its error budget before this worker claims again. */
    Future<Void> parked();

    /** A segment's data cannot be written as mapped: the job pauses, saying so. */
    Future<Void> pauseForDrift(DriftPauser by, String reason);

    /** An error met (for the meters). */
    void error(ErrorClass cls);

    /** A transient error is about to be retried: the pace backs off, the figures count it. */
    void retrying();
  }

  /** The retry policy: attempts before a transient error parks the segment, and the delay between them. */
  record Retries(int maxAttempts, Backoff backoff) {}

  /** What a run works with: the job's collaborators, and the job itself through {@link Job}. */
  record Context(Vertx vertx, Ledger ledger, CopyPath path, Verifier verifier, Pool source, Pool target, JobShape shape,
      Guards guards, Job job) {}

  private final Context ctx;
  private final Job job;
  private Segment seg;
  private boolean copied;
  private boolean recopied;
  private final Promise<Void> copyOver = Promise.promise();

  SegmentRun(Context context, Segment seg) {
    this.ctx = context;
    this.job = context.job();
    this.seg = seg;
  }

  /**
   * Runs the segment from its first attempt ({@code purge} when something may have written into its
   * range before): {@code copied} completes once a copy committed and its read-back starts (or the run
   * ended), so the worker may start the next segment's copy while this one is proved.
   */
  WorkerPool.Run run(boolean purge) {
    Future<Void> done = attempt(1, purge).onComplete(x -> copyOver.tryComplete());
    return new WorkerPool.Run(copyOver.future(), done);
  }

  Future<Void> attempt(int n, boolean purge) {
    return copyAndVerify(purge).transform(ar -> ar.succeeded() ? Future.succeededFuture() : onError(ar.cause(), n));
  }

  private Future<Void> copyAndVerify(boolean purge) {
    return ctx.path().copy(seg, purge)
        .compose(res -> res.cutAt() == null ? Future.succeededFuture(res) : cut(res))
        .compose(res -> ctx.shape().job().verify().perSegment() ? verify(res) : counted(res));
  }

  /** Per-segment verification off: the segment counts on the rows the target reported stored. */
  private Future<Void> counted(SegmentCopier.Result res) {
    Segment done = seg;
    return ctx.ledger().markCounted(done, res.rows(), res.hash()).onSuccess(v -> job.verified(done));
  }

  /** Reads the target range back as the path hashed the source's; a mismatch re-copies once, then parks. */
  private Future<Void> verify(SegmentCopier.Result copiedRes) {
    return ctx.ledger().markCopied(seg, copiedRes.rows(), copiedRes.rows(), copiedRes.hash()).map(copiedRes)
        .compose(res -> {
          copied = true;
          copyOver.tryComplete();
          return ctx.path().target(seg.range()).compose(fp -> {
            if (fp.rows() == res.rows() && fp.hash() == res.hash()) {
              Segment done = seg;
              return ctx.ledger().markVerified(done, fp.rows(), fp.hash()).onSuccess(v -> job.verified(done));
            }
            String why = "verification mismatch: source " + res.rows() + " rows, hash " + Long.toHexString(res.hash())
                + "; target " + fp.describe();
            if (recopied) {
              return differingKeys().compose(keys -> parked(
                  keys.isEmpty() ? why : why + "; differing keys (source as of now): " + keys, keys.isEmpty() ? null : keys));
            }
            recopied = true;
            log.warn("job {} segment {}: {}; re-copying from a clean range", seg.job(), seg.seq(), why);
            return ctx.ledger().markRecopy(seg, why).compose(v -> {
              copied = false;
              return copyAndVerify(true);
            });
          });
        });
  }

  /** Records the cut; from here on this run covers {@code [lower, cutAt)} only. */
  private Future<SegmentCopier.Result> cut(SegmentCopier.Result res) {
    return ctx.ledger().split(seg, res.cutAt(), res.rows(), res.cutReason()).map(newSeq -> {
      log.info("job {} segment {}: cut after {} rows ({}); the rest is segment {}", seg.job(), seg.seq(), res.rows(), res.cutReason(), newSeq);
      seg = new Segment(seg.job(), seg.seq(), new KeyRange(seg.range().lower(), res.cutAt()), seg.state(), res.rows(), res.rows(),
          seg.attempts(), seg.lastError(), seg.owner(), seg.epoch());
      return res;
    });
  }

  private Future<Void> parked(String why, String key) {
    log.error("job {} segment {} parked failed: {}", seg.job(), seg.seq(), why);
    // The error budget is checked before this worker claims another segment.
    return ctx.ledger().markFailed(seg, why, key).compose(v -> job.parked());
  }

  private Future<Void> onError(Throwable e, int n) {
    if (e instanceof SegmentCopier.Cancelled) return Future.succeededFuture();
    ErrorClass cls = ErrorClassifier.classify(e);
    job.error(cls);
    String what = ErrorClassifier.describe(e);
    if (cls == ErrorClass.FENCED) {
      log.warn("job {} segment {}: lease lost (epoch {} expired or taken over); write refused, dropping this copy",
          seg.job(), seg.seq(), seg.epoch());
      return ctx.ledger().leaseLost(seg, "a write was refused").otherwiseEmpty();
    }
    boolean breakerOpen = false;
    if (ctx.guards() != null) {
      var breaker = e instanceof SegmentCopier.SourceFailure ? ctx.guards().source() : ctx.guards().target();
      breaker.failure(e);
      breakerOpen = breaker.open();
    }
    if (cls == ErrorClass.PERMANENT || (!breakerOpen && n >= job.retries().maxAttempts())) {
      Future<Void> parked = parked(cls == ErrorClass.PERMANENT ? what : "gave up after " + n + " attempts: " + what, errorKey(e));
      // SQLSTATE class 22 (data exception): a source value the target type cannot hold is data drift.
      if (!DataDrift.isDataException(e)) return parked;
      return parked.compose(v -> job.pauseForDrift(DriftPauser.COPY, "data drift: segment " + seg.seq() + " holds a value the target type cannot hold ("
          + what + (errorKey(e) == null ? "" : "; " + errorKey(e)) + "); fix the data or the column mapping, then resume and retry"));
    }
    if (ctx.path().serverSide() && isStatementTimeout(e) && seg.rowsPlanned() >= 2 * MIN_SPLIT_ROWS) {
      boolean open = breakerOpen;
      return halve(what).compose(split -> split ? attempt(n, true) : retry(e, n, open, what),
          err -> ErrorClassifier.classify(err) == ErrorClass.FENCED ? Future.succeededFuture() : retry(e, n, open, what));
    }
    return retry(e, n, breakerOpen, what);
  }

  private static final long MIN_SPLIT_ROWS = 100;

  /** The keys that differ in a segment that failed verification twice, found by bisecting its range. */
  private Future<String> differingKeys() {
    return new Bisector(ctx.shape(), ctx.verifier()).differingKeys(ctx.source(), ctx.target(), seg.range(), 20)
        .map(keys -> String.join(", ", keys.stream().map(Bisector::describe).toList()))
        .otherwise("");
  }

  /** Cancelled by {@code statement_timeout} (57014): the statement ran longer than the session cap. */
  private static boolean isStatementTimeout(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof PgException pg) return "57014".equals(pg.getSqlState());
    }
    return false;
  }

  /**
   * A server-side copy is one statement, so it cannot be cut part way as a streamed copy is: when it
   * outruns the statement cap, the segment is split at its middle key (one ledger statement, with its
   * event) and this run retries the first half. It does not count as an attempt: the work changed.
   * False when no middle key was found (the range holds fewer rows than planned).
   */
  private Future<Boolean> halve(String what) {
    long kept = seg.rowsPlanned() / 2;
    return new Planner(ctx.source()).keyAt(ctx.shape(), seg.range(), kept).compose(mid -> {
      if (mid == null) return Future.succeededFuture(false);
      return ctx.ledger().split(seg, mid, kept, "server-side copy exceeded the statement cap (" + what + "); split in half")
          .map(newSeq -> {
            log.info("job {} segment {}: server-side copy exceeded the statement cap; split in half, the rest is segment {}",
                seg.job(), seg.seq(), newSeq);
            seg = new Segment(seg.job(), seg.seq(), new KeyRange(seg.range().lower(), mid), seg.state(), kept, 0,
                seg.attempts(), seg.lastError(), seg.owner(), seg.epoch());
            return true;
          });
    });
  }

  private Future<Void> retry(Throwable e, int n, boolean breakerOpen, String what) {
    job.retrying();
    int next = breakerOpen ? n : n + 1;
    long delay = job.retries().backoff().delayMs(n);
    log.warn("job {} segment {}: {} (transient{}); retry in {} ms", seg.job(), seg.seq(), what,
        breakerOpen ? ", database unavailable" : ", attempt " + n, delay);
    return ctx.ledger().noteRetry(seg, what, delay).otherwiseEmpty()
        .compose(v -> ctx.vertx().timer(Math.max(1, delay)))
        .compose(v -> job.whenOpen())
        .compose(v -> stalled(e) ? resync() : Future.succeededFuture())
        .compose(v -> copied ? ctx.ledger().markRecopy(seg, "retry after: " + what) : Future.succeededFuture())
        .compose(v -> {
          copied = false;
          return job.stopping() ? Future.<Void>succeededFuture() : attempt(next, true);
        }, err -> ErrorClassifier.classify(err) == ErrorClass.FENCED || job.stopping() ? Future.succeededFuture() : attempt(next, true));
  }

  /**
   * After a stall a cut of this segment may have landed in the ledger though its answer never came
   * ({@link SegmentBounds}): the retry copies the range the ledger holds, not the whole one (whose rest is
   * a pending segment of its own by then). Best effort: a ledger still silent leaves the range as it is.
   */
  private Future<Void> resync() {
    return SegmentBounds.held(ctx.ledger().pool(), ctx.ledger().agentId(), seg).<Void>map(now -> {
      if (now != null && !now.range().equals(seg.range())) {
        log.info("job {} segment {}: cut in the ledger though the answer never came; its range is now {} ({} rows planned)", seg.job(),
            seg.seq(), now.range(), now.rowsPlanned());
        seg = new Segment(seg.job(), seg.seq(), now.range(), seg.state(), now.rowsPlanned(), now.rowsCopied(), seg.attempts(),
            seg.lastError(), seg.owner(), seg.epoch());
      }
      return null;
    }).otherwiseEmpty();
  }

  private static boolean stalled(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) if (c instanceof DatabaseStalled) return true;
    return false;
  }

  /** Where a failure happened: the failing row from PostgreSQL's detail, else the batch's key span. */
  static String errorKey(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof PgException pg && pg.getDetail() != null && pg.getDetail().startsWith("Failing row contains")) {
        return pg.getDetail();
      }
    }
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof SegmentCopier.BatchFailure bf) return "batch keys " + bf.keySpan();
    }
    return null;
  }
}
