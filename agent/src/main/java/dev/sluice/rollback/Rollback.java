package dev.sluice.rollback;

import dev.sluice.capture.ChangeCapture;
import dev.sluice.config.Sql;
import dev.sluice.config.TableName;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Segment;
import dev.sluice.ledger.SegmentState;
import dev.sluice.pace.Pacer;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.Backoff;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Undoes a job: stops it (one ledger statement moves the job and every segment to rolling_back and
 * fences off every lease, so no agent's copier, applier or repair writes again), deletes what it
 * wrote to the target segment by segment, paced, in small batches (or drops the target table when the
 * ledger says Sluice created it), removes the capture trigger and changelog from the source, and marks
 * the job rolled_back. Each step is idempotent and recorded, so a rollback killed at any point and run
 * again finishes the same way; that is also how a transient failure (a deadlock with an agent's ledger
 * write, a serialization failure, a lost connection) is handled: the rollback runs again by itself, up
 * to {@link #ATTEMPTS} times with jittered backoff, before it reports the failure.
 *
 * <p>The entry point for abort rules as well as for {@code sluice rollback}.
 */
public final class Rollback {
  private static final Logger log = LoggerFactory.getLogger(Rollback.class);
  public static final int DELETE_BATCH_ROWS = 5_000;
  /** How often a rollback says how far it has got. */
  private static final long PROGRESS_NANOS = 30_000_000_000L;
  /** Runs of a rollback that meets transient failures before the failure is reported. */
  static final int ATTEMPTS = 5;

  private final Vertx vertx;
  private final LongSupplier nanos;
  private final Pool source;
  private final Pool target;
  private final ConsistencyLedger ledger;
  private final Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(3), () -> ThreadLocalRandom.current().nextDouble());

  /** {@code target} also holds the ledger. */
  public Rollback(Vertx vertx, Pool source, Pool target, String actor, LongSupplier nanos) {
    this.vertx = vertx;
    this.nanos = nanos;
    this.source = source;
    this.target = target;
    this.ledger = new ConsistencyLedger(target, actor);
  }

  /** What a rollback did. */
  public record Outcome(String job, long rowsDeleted, int segments, boolean tableDropped, boolean alreadyDone) {}

  /** Refused before anything was changed (unknown job, or a target that held rows of its own). */
  public static final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Rolls a job back. {@code force}: also when the target held rows before the job started (every row
   * in the job's key ranges is deleted, those included). {@code rowsPerSecond}: delete pace (null:
   * unpaced).
   */
  public Future<Outcome> run(String job, String reason, Double rowsPerSecond, boolean force) {
    Pacer pacer = new Pacer(vertx, rowsPerSecond, Math.max(DELETE_BATCH_ROWS, rowsPerSecond == null ? 0 : rowsPerSecond.longValue()), nanos);
    return attempt(job, reason, new Progress(pacer, nanos.getAsLong()), force, 1);
  }

  /**
   * One run's pace and what it has deleted, across its attempts: an attempt after an interruption
   * deletes only what is left, and the outcome counts what the run deleted, not the last attempt.
   */
  private static final class Progress {
    final Pacer pacer;
    long deleted;
    int segments;
    long saidAt;
    /** An attempt of this run began the rollback (or the table's drop): a later one finding it done finished it unheard. */
    boolean began;
    boolean dropping;

    Progress(Pacer pacer, long now) {
      this.pacer = pacer;
      this.saidAt = now;
    }
  }

  private Future<Outcome> attempt(String job, String reason, Progress p, boolean force, int n) {
    return once(job, reason, p, force).recover(e -> {
      if (n >= ATTEMPTS || e instanceof Refused || ErrorClassifier.classify(e) != ErrorClass.TRANSIENT) return Future.failedFuture(e);
      long delay = Math.max(1, backoff.delayMs(n));
      log.warn("job {}: rollback interrupted ({}); running it again in {} ms (attempt {} of {})", job, ErrorClassifier.describe(e), delay,
          n + 1, ATTEMPTS);
      return vertx.timer(delay).compose(v -> attempt(job, reason, p, force, n + 1));
    });
  }

  private Future<Outcome> once(String job, String reason, Progress p, boolean force) {
    return ledger.facts(job).compose(f -> {
      if (f == null) return Future.failedFuture(new Refused("no job " + job + " in the ledger: nothing to roll back"));
      if (f.state() == JobState.ROLLED_BACK) {
        // Done by an earlier attempt of this run whose last answer was lost (a stall, a reset): say what the run did.
        Outcome done = p.began ? new Outcome(job, p.deleted, p.segments, p.dropping, false) : new Outcome(job, 0, 0, false, true);
        return removeCapture(f).map(v -> done);
      }
      if (f.state() != JobState.ROLLING_BACK && Boolean.TRUE.equals(f.targetHadRows()) && !f.targetCreated() && !force) {
        return Future.failedFuture(new Refused("target table " + f.targetTable() + " held rows before job " + job + " started; a rollback "
            + "deletes every row in the job's key ranges, those included, and cannot restore rows Sluice overwrote. "
            + "Run again with --force to do it anyway"));
      }
      log.info("job {}: rolling back ({})", job, reason);
      p.began = true;
      p.dropping = f.targetCreated();
      return ledger.beginRollback(job, reason)
          .compose(v -> f.targetCreated() ? dropTable(job, f) : deleteRanges(job, f, p))
          .compose(out -> removeCapture(f).map(out))
          .compose(out -> ledger.finishRollback(job).map(out))
          .onSuccess(out -> log.info("job {}: rolled back: {} rows deleted from {} segments{}", job, out.rowsDeleted(), out.segments(),
              out.tableDropped() ? ", target table dropped" : ""));
    });
  }

  private Future<Outcome> dropTable(String job, ConsistencyLedger.JobFacts f) {
    String table = TableName.parse(f.targetTable()).sql();
    // The drop and the segments' new state commit together: either both happened or neither.
    return target.withTransaction(conn -> conn.query("DROP TABLE IF EXISTS " + table).execute()
            .compose(v -> new ConsistencyLedger(conn, "rollback").tableDropped(job, f.targetTable())))
        .map(v -> new Outcome(job, 0, 0, true, false));
  }

  private Future<Outcome> deleteRanges(String job, ConsistencyLedger.JobFacts f, Progress p) {
    List<String> key = f.targetKey() != null ? f.targetKey() : f.keyColumns();
    String table = TableName.parse(f.targetTable()).sql();
    return ledger.segments(job).compose(segs -> {
      int todo = p.segments + (int) segs.stream().filter(s -> s.state() == SegmentState.ROLLING_BACK).count();
      Future<Void> chain = Future.succeededFuture();
      for (Segment s : segs) {
        if (s.state() != SegmentState.ROLLING_BACK) continue;
        chain = chain.compose(v -> eraseRange(table, key, f.keyTypes(), s.range(), p, 0)
            .compose(n -> ledger.segmentRolledBack(job, s.seq(), n))
            .<Void>map(x -> {
              // Counted once recorded: a segment whose record an interruption lost is done again by the next attempt.
              p.segments++;
              // A paced rollback of a large table runs for hours: where it is, every half minute.
              if (nanos.getAsLong() - p.saidAt >= PROGRESS_NANOS && p.segments < todo) {
                p.saidAt = nanos.getAsLong();
                log.info("job {}: rolling back: {} rows deleted, {} of {} segments done", job, p.deleted, p.segments, todo);
              }
              return null;
            }));
      }
      return chain.map(v -> new Outcome(job, p.deleted, p.segments, false, false));
    });
  }

  /**
   * Deletes a key range in batches (short transactions, paced), until a batch finds fewer rows than it
   * may delete (the range is then empty: the job's leases are fenced, nothing of Sluice's writes there).
   * The pace is charged with the rows each batch deleted, once it has: charging the batch's size up
   * front, with a last batch of the range finding none, ran a range of 6,000 rows at a third of the
   * rate asked for.
   */
  private Future<Long> eraseRange(String table, List<String> key, List<String> types, KeyRange range, Progress p, long sofar) {
    KeyRange.Predicate where = range.predicate(key, types, 1);
    String cols = key.stream().map(Sql::ident).collect(Collectors.joining(", "));
    String sql = "WITH d AS (DELETE FROM " + table + " WHERE (" + cols + ") IN (SELECT " + cols + " FROM " + table + " WHERE " + where.sql()
        + " LIMIT " + DELETE_BATCH_ROWS + ") RETURNING 1) SELECT count(*) FROM d";
    return target.preparedQuery(sql).execute(Tuple.tuple(where.params()))
        .compose(rows -> {
          long n = rows.iterator().next().getLong(0);
          p.deleted += n;
          Future<Void> paced = n == 0 ? Future.succeededFuture() : p.pacer.acquire(n);
          return n < DELETE_BATCH_ROWS ? paced.map(sofar + n) : paced.compose(v -> eraseRange(table, key, types, range, p, sofar + n));
        });
  }

  private Future<Void> removeCapture(ConsistencyLedger.JobFacts f) {
    return ChangeCapture.remove(vertx, source, f.name())
        .compose(v -> ledger.captureRemoved(f.name(), "rollback"));
  }
}
