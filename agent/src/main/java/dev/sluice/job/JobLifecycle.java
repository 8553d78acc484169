package dev.sluice.job;

import dev.sluice.config.JobConfig;
import dev.sluice.copy.SegmentSql;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.SegmentState;
import dev.sluice.resilience.ErrorBudget;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's state machine on this agent, kept in step with the ledger (the single source of truth,
 * read every second): planning or resuming, the operator's pause (with who paused it), copying, and
 * the end: completed, or failed when segments are parked, or aborted (by an operator, or by the error
 * budget), or handed to a rollback. Every change is one ledger statement with its audit event; this
 * class changes its own view only once the ledger has it.
 */
final class JobLifecycle {
  private static final Logger log = LoggerFactory.getLogger(JobLifecycle.class);
  static final long SYNC_MS = 1000;

  private final Vertx vertx;
  private final JobShape shape;
  private final String path;
  private final Pool source;
  private final Ledger ledger;
  private final SegmentSql sql;
  private final JobGate gate;
  private final Supplier<JobConfig> config;
  private final String name;
  private WorkerPool workers;
  private CatchUp catchUp;
  private volatile Consumer<String> onAbort = reason -> {};
  private volatile boolean stopping;
  private volatile boolean paused;
  private volatile String pauseReason;
  private volatile String pausedBy;
  private volatile JobState state = JobState.PLANNING;
  private volatile Promise<JobState> finished = Promise.promise();
  private long syncTimer = -1;

  JobLifecycle(Vertx vertx, JobShape shape, String path, Pool source, Ledger ledger, SegmentSql sql, JobGate gate,
      Supplier<JobConfig> config) {
    this.vertx = vertx;
    this.shape = shape;
    this.path = path;
    this.source = source;
    this.ledger = ledger;
    this.sql = sql;
    this.gate = gate;
    this.config = config;
    this.name = shape.job().name();
  }

  void workers(WorkerPool pool) {
    this.workers = pool;
  }

  void attach(CatchUp c) {
    this.catchUp = c;
  }

  void onAbort(Consumer<String> listener) {
    this.onAbort = listener;
  }

  JobState state() {
    return state;
  }

  boolean paused() {
    return paused;
  }

  boolean stopping() {
    return stopping;
  }

  /** Workers leave between segments: the job stops on this agent, or was aborted. */
  boolean halted() {
    return stopping || state == JobState.ABORTED;
  }

  /** Who paused the job (an operator, or a {@link DriftPauser}); null while it is not paused. */
  String pausedBy() {
    return paused ? pausedBy : null;
  }

  /** Why the operator (or Sluice itself) paused the job, naming who; null while it is not paused. */
  String pauseSentence() {
    return paused ? Ledger.pauseSentence(pausedBy, pauseReason) : null;
  }

  Future<JobState> finished() {
    return finished.future();
  }

  /**
   * Resumes or records the plan, then starts the workers; {@code path} says how the rows travel (for the
   * log). {@code warm} runs once the ledger says the job has copying ahead of it, before planning.
   */
  Future<Void> start(String path, Runnable warm) {
    ConsistencyLedger facts = new ConsistencyLedger(ledger.pool(), ledger.agentId());
    return ledger.job(name)
        .onSuccess(row -> {
          if (row == null || !row.state().ended()) warm.run();
        })
        // A job that was rolled back is planned afresh under the same name.
        .compose(row -> row != null && row.state() == JobState.ROLLED_BACK ? facts.forgetRolledBack(name).map(x -> null) : Future.succeededFuture(row))
        .compose(row -> row == null ? JobPlanning.planAndRecord(shape, sql, source, ledger) : JobPlanning.checkSameJob(row, shape.job(), shape, path))
        .compose(v -> ledger.job(name))
        .compose(row -> {
          take(row);
          state = row.state();
          gate.start();
          log.info("job {}: {} ({} segments, {} rows planned){}", name, row.state().db(), row.segmentsPlanned(), row.rowsPlanned(),
              ", " + path);
          if (!state.writing()) return Future.succeededFuture();
          // Capture goes in before this agent's first claim, so no segment is ever copied without it.
          return catchUp == null ? Future.succeededFuture() : catchUp.prepare();
        })
        .map(v -> {
          if (state == JobState.ROLLING_BACK) log.warn("job {}: a rollback is under way; run `sluice rollback` to finish it", name);
          syncTimer = vertx.setPeriodic(SYNC_MS, t -> syncFromLedger());
          launch();
          return null;
        });
  }

  private void take(Ledger.JobRow row) {
    paused = row.paused();
    pauseReason = row.pauseReason();
    pausedBy = row.pausedBy();
  }

  private void launch() {
    if (state.ended()) {
      finished.tryComplete(state);
      return;
    }
    if (!finished.future().isComplete() && workers.alive() > 0) return;
    if (finished.future().isComplete()) finished = Promise.promise();
    workers.launch();
  }

  private void syncFromLedger() {
    ledger.job(name).onSuccess(row -> {
      if (row == null) return;
      if (row.paused() != paused) log.info("job {}: {}", name, row.paused() ? row.pauseSentence() : "resumed");
      take(row);
      if (row.state() == JobState.ABORTED && state != JobState.ABORTED) {
        log.error("job {}: aborted: {}", name, row.reason());
        state = JobState.ABORTED;
      }
      if ((row.state() == JobState.ROLLING_BACK || row.state() == JobState.ROLLED_BACK) && !stopping) {
        log.warn("job {}: {} by an operator; this agent stops working on it", name, row.state().db().replace('_', ' '));
        state = row.state();
        stopping = true;
        (catchUp == null ? Future.<Void>succeededFuture() : catchUp.stop()).onComplete(x -> {
          if (workers.alive() == 0) finished.tryComplete(state);
        });
        return;
      }
      // Another agent or an operator re-queued failed segments: start working again.
      if (row.state() == JobState.COPYING && state != JobState.COPYING && workers.alive() == 0 && !stopping) {
        state = JobState.COPYING;
        launch();
      }
    });
  }

  /** A segment was parked failed: abort the job if its error budget is spent (before this worker claims again). */
  Future<Void> segmentParked() {
    JobConfig.Abort rule = config.get().pacing().abort();
    if (!rule.limited()) return Future.succeededFuture();
    return ledger.progress(name)
        .compose(p -> {
          int failed = p.count(SegmentState.FAILED);
          String why = ErrorBudget.of(rule).exceeded(failed, failed + p.count(SegmentState.VERIFIED));
          if (why == null || state == JobState.ABORTED) return Future.<Void>succeededFuture();
          return ledger.setJobState(name, JobState.ABORTED, why).onSuccess(v -> {
            state = JobState.ABORTED;
            log.error("job {}: aborted: {}; everything written so far and the ledger are kept", name, why);
            onAbort.accept(why);
          });
        })
        .recover(e -> {
          log.warn("job {}: cannot check the error budget: {}", name, ErrorClassifier.describe(e));
          return Future.succeededFuture();
        });
  }

  /** The last worker left: record how the job ended (a failure to record it is retried by the workers). */
  Future<Void> lastWorkerLeft() {
    if (halted()) {
      finished.tryComplete(state);
      return Future.succeededFuture();
    }
    return ledger.progress(name)
        .compose(p -> {
          int copyFailed = p.count(SegmentState.FAILED);
          // With capture on, a fully copied job goes on catching up instead of completing.
          if (copyFailed == 0 && catchUp != null && catchUp.enabled()) return catchUp.copyDone();
          // A plain copy's final pass may park segments whose target range changed since.
          return (copyFailed == 0 && catchUp != null ? catchUp.verifyPlainCopy() : Future.succeededFuture(copyFailed)).compose(failed -> {
            JobState st = failed > 0 ? JobState.FAILED : JobState.COMPLETED;
            String reason = failed > 0 ? failed + " of " + p.total() + " segments failed; fix the cause, then `sluice retry`" : null;
            return ledger.setJobState(name, st, reason).map(st);
          });
        })
        .onSuccess(st -> {
          state = st;
          log.info("job {}: {}", name, state.db());
          finished.tryComplete(state);
        })
        .onFailure(e -> log.warn("job {}: cannot record completion: {}", name, ErrorClassifier.describe(e)))
        .mapEmpty();
  }

  /** Workers stop after their current batch; in-flight segments are released by the agent. */
  Future<Void> stop() {
    stopping = true;
    if (syncTimer >= 0) vertx.cancelTimer(syncTimer);
    gate.stop();
    if (catchUp != null) catchUp.stop().onComplete(x -> {
      if (workers.alive() == 0) finished.tryComplete(state);
    });
    if (workers.alive() == 0) finished.tryComplete(state);
    return finished.future().mapEmpty();
  }

  /** See {@link Migrator#abort}. */
  Future<Boolean> abort(String reason, String actor) {
    if (state.ended()) return Future.succeededFuture(false);
    String why = Migrator.abortReason(actor, reason);
    return ledger.setJobState(name, JobState.ABORTED, why)
        .compose(v -> ledger.job(name))
        .map(row -> {
          boolean aborted = row != null && row.state() == JobState.ABORTED;
          if (aborted) {
            state = JobState.ABORTED;
            log.error("job {}: {}; everything written so far and the ledger are kept", name, why);
            // Catching up stops too; capture stays installed until a rollback or cleanup removes it.
            if (catchUp != null) catchUp.stop();
            if (workers.alive() == 0) finished.tryComplete(state);
          }
          return aborted;
        });
  }

  Future<Void> setPaused(boolean pause, String reason, String actor) {
    return ledger.setPaused(name, pause, reason, actor).onSuccess(v -> {
      // A job already in that state keeps who paused it and why (the ledger did not change).
      if (pause == paused) return;
      paused = pause;
      pauseReason = pause ? reason : null;
      pausedBy = pause ? actor : null;
    });
  }

  /** Re-queues parked segments and starts working again. */
  Future<Integer> retry(Integer seq, String actor) {
    return ledger.retryFailed(name, seq, actor).onSuccess(n -> {
      if (n > 0 && workers.alive() == 0 && !stopping) {
        state = JobState.COPYING;
        launch();
      }
    });
  }
}
