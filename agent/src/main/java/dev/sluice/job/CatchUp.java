package dev.sluice.job;

import dev.sluice.capture.ChangeApplier;
import dev.sluice.capture.ChangeCapture;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.SegmentState;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.verify.DriftMonitor;
import dev.sluice.verify.FinalVerification;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's life after (and around) the copy when change capture is on. Before the first segment is
 * copied, the capture trigger is installed on the source; the applier runs from then on. When the
 * copy is done the job is {@code catching_up}; once the backlog is at most {@code capture.inSyncRows}
 * it is {@code in_sync} (still applying), the final verification pass runs, and when the operator
 * asks ({@code sluice complete}, or {@code run --until-done}) the backlog is drained one last time and
 * the job is {@code completed}.
 *
 * <p>With several agents, the one holding the applier lock drives these transitions; the others
 * follow the ledger.
 *
 * <p>A rewrite or TRUNCATE of either table (seen by the drift monitor's poll, and checked again
 * right before completing) is an audit event, and the final pass runs again: the job completes only
 * after a pass that no rewrite overlapped.
 */
public final class CatchUp {
  private static final Logger log = LoggerFactory.getLogger(CatchUp.class);

  private final Vertx vertx;
  private final JobShape shape;
  private final String job;
  private final Pool source;
  private final Pool target;
  private final Ledger ledger;
  private final ConsistencyLedger facts;
  private final ChangeApplier applier;
  private final FinalVerification verification;
  private final SyncGauge gauge;
  private final DriftMonitor drift;
  private volatile boolean untilDone;
  private volatile boolean stopped;
  private volatile boolean started;
  private volatile boolean applierStopped;
  /** How often the job's catch-up is looked at (backlog, state, final pass, completion). */
  private static final long TICK_MS = 500;
  private long timer = -1;
  private Promise<JobState> outcome;
  private boolean busy;
  private volatile boolean verified;

  private final CaptureSetup capture;

  /**
   * {@code sourceOptions}: the source's connection settings, for the WAL reader's own JDBC sessions (null: no logical mode);
   * {@code stallTimeout}: how long the reader's stream may stay silent after a heartbeat ({@code sessions.stallTimeoutMs}).
   */
  public CatchUp(Vertx vertx, JobShape shape, Pool source, dev.sluice.db.ConnectionSettings sourceOptions, java.time.Duration stallTimeout,
      Pool target, Ledger ledger,
      ChangeApplier applier, FinalVerification verification, DriftMonitor drift, java.time.Clock clock,
      java.util.function.LongSupplier nanos) {
    this.vertx = vertx;
    this.shape = shape;
    this.job = shape.job().name();
    this.source = source;
    this.target = target;
    this.ledger = ledger;
    this.facts = new ConsistencyLedger(ledger.pool(), ledger.agentId());
    this.applier = applier;
    this.verification = verification;
    this.gauge = new SyncGauge(shape.job().capture().inSyncRows());
    this.drift = drift;
    this.capture = new CaptureSetup(vertx, shape, source, sourceOptions, stallTimeout, ledger, clock, nanos, applier.handoff());
    verification.changelogBarrier(capture::caughtUp);
    drift.onRewrite(changes -> rewritten(changes).onFailure(e -> log.warn("job {}: cannot record the rewrite: {}", job,
        ErrorClassifier.describe(e))));
  }

  public boolean enabled() {
    return shape.job().capture().enabled();
  }

  /** The applier's backlog, or null with capture off. */
  public ChangeApplier.Backlog backlog() {
    return enabled() ? applier.backlog() : null;
  }

  /**
   * Whether this agent hears every change Sluice makes to the target's rows: with capture on, only
   * the agent whose applier writes the job's changes does (until the job is completed and the
   * appliers have stopped); with capture off, Sluice changes nothing after a segment verified.
   */
  public boolean hearsChanges(JobState state) {
    return !enabled() || applier.backlog().leader() || state == JobState.COMPLETED;
  }

  /** Logical capture's figures on this agent; null in trigger mode (or without capture). */
  public dev.sluice.capture.WalFigures walFigures() {
    if (!enabled() || capture.mode() != dev.sluice.capture.CaptureChoice.Mode.LOGICAL) return null;
    var c = capture.capture();
    return c == null ? dev.sluice.capture.WalFigures.elsewhere(dev.sluice.capture.LogicalSlot.name(job)) : c.figures();
  }

  /** The decision on the retained WAL of the job's slot ({@code NONE} unless this agent reads the slot). */
  public dev.sluice.capture.SlotRisk.Decision slotDecision() {
    var c = capture.capture();
    return c == null ? dev.sluice.capture.SlotRisk.Decision.NONE : c.decision();
  }

  public ChangeApplier applier() {
    return applier;
  }

  /** Complete the job as soon as it is in sync and verified ({@code run --until-done}). */
  public void completeWhenInSync() {
    untilDone = true;
  }

  /**
   * Before any segment is copied: records the target facts a rollback needs and installs capture
   * (idempotent; every agent does it before its first claim, so no copy can precede the trigger).
   */
  public Future<Void> prepare() {
    return resumeAfterSchemaDrift().compose(x -> targetHasRows(target)).compose(had -> {
      if (!enabled()) return facts.targetFacts(job, shape.targetKey(), had);
      return capture.install()
          .compose(mode -> facts.captureInstalled(job, shape.targetKey(), had, dev.sluice.capture.CaptureSql.changelog(job)))
          .compose(v -> applier.start())
          .onSuccess(v -> started = true);
    }).compose(v -> shape.job().drift().enabled() ? drift.start() : Future.succeededFuture());
  }

  /**
   * A job paused by schema drift resumes when an agent starts with a config that validated against
   * the tables as they are now: that restart is the operator's answer to the drift.
   */
  private Future<Void> resumeAfterSchemaDrift() {
    return facts.facts(job).compose(f -> {
      if (f == null || !f.paused() || f.pauseReason() == null || !f.pauseReason().startsWith("schema drift")) {
        return Future.succeededFuture();
      }
      log.info("job {}: resuming after schema drift: the config validated against the tables as they are now", job);
      return ledger.setPaused(job, false, null, "restart with a config validated against the changed schema");
    });
  }

  private Future<Boolean> targetHasRows(SqlClient t) {
    return t.query("SELECT EXISTS (SELECT 1 FROM " + shape.job().target().table().sql() + ")").execute()
        .map(rows -> rows.iterator().next().getBoolean(0))
        .otherwise(false); // not created yet: it will be Sluice's
  }

  /** The copy is done (no failed segment): catch up, reach in sync, verify, complete when asked. */
  public Future<JobState> copyDone() {
    if (outcome == null || outcome.future().isComplete()) {
      outcome = Promise.promise();
      verified = false;
      if (applierStopped && !stopped) {
        // The job had ended (failed) and its segments were retried while this agent ran: apply again.
        applierStopped = false;
        applier.restart().onFailure(e -> log.warn("job {}: cannot restart the applier: {}", job, ErrorClassifier.describe(e)));
      }
      facts.facts(job)
          .compose(f -> f != null && f.state() == JobState.COPYING ? ledger.setJobState(job, JobState.CATCHING_UP, null) : Future.succeededFuture())
          .onComplete(ar -> {
            if (ar.failed()) log.warn("job {}: cannot record catching up: {}", job, ErrorClassifier.describe(ar.cause()));
            if (timer < 0 && !stopped) {
              timer = vertx.setPeriodic(TICK_MS, t -> tick());
              tick();
            }
          });
    }
    return outcome.future();
  }

  /**
   * One step; a step that moved the job on (to in sync, or past the final pass) is followed by the
   * next one at once rather than at the next tick, so a job that is done does not idle a tick per
   * transition.
   */
  private void tick() {
    if (busy || stopped) return;
    busy = true;
    step().onComplete(ar -> {
      busy = false;
      if (ar.failed()) log.warn("job {}: catch-up step failed (will retry): {}", job, ErrorClassifier.describe(ar.cause()));
      else if (ar.result() && !stopped) vertx.runOnContext(v -> tick());
    });
  }

  /** True when the job moved on and the next step may follow at once. */
  private Future<Boolean> step() {
    return facts.facts(job).compose(f -> {
      if (f == null) return Future.succeededFuture(false);
      JobState st = f.state();
      if (st == JobState.COMPLETED || st == JobState.FAILED || st == JobState.ROLLING_BACK || st == JobState.ROLLED_BACK) {
        finish(st);
        return Future.succeededFuture(false);
      }
      ChangeApplier.Backlog b = applier.backlog();
      if (!b.leader() || f.paused()) return Future.succeededFuture(false); // another agent drives, or the job is paused
      return capture.takeReverify().compose(again -> {
        if (again) verified = false; // changes were lost to capture: the final pass runs (again) before completing
        return drive(f, st, b);
      });
    });
  }

  private Future<Boolean> drive(ConsistencyLedger.JobFacts f, JobState st, ChangeApplier.Backlog b) {
    SyncGauge.Move move = gauge.next(st, b.rows());
    if (move == SyncGauge.Move.IN_SYNC) {
      log.info("job {}: in sync (backlog {} rows, oldest change {} ms)", job, b.rows(), b.oldestAgeMs());
      return ledger.setJobState(job, JobState.IN_SYNC, "backlog " + b.rows() + " rows").map(true);
    }
    if (move == SyncGauge.Move.CATCHING_UP) {
      return ledger.setJobState(job, JobState.CATCHING_UP, "backlog grew to " + b.rows() + " rows").map(false);
    }
    if (st != JobState.IN_SYNC) return Future.succeededFuture(false);
    if (!verified && shape.job().verify().finalPass()) {
      return verification.run().compose(report -> {
        verified = true;
        if (report.unrepaired() > 0 || report.checksFailed() > 0) {
          String why = "final verification: " + (report.overLimit() > 0 ? "at least " : "") + report.unrepaired()
              + " mismatched rows not repaired" + (report.overLimit() > 0 ? " (" + report.overLimit() + " segment(s) with more "
              + "differences than the pass repairs in one: `sluice retry` copies them again)" : "") + ", " + report.checksFailed()
              + " custom checks differ (see the verify report)";
          return ledger.setJobState(job, JobState.FAILED, why).onSuccess(v -> finish(JobState.FAILED)).map(false);
        }
        return Future.succeededFuture(true);
      });
    }
    verified = true;
    if (!(untilDone || f.completeRequested())) return Future.succeededFuture(false);
    return verification.rewrittenSincePass().compose(changes -> {
      if (!changes.isEmpty()) return rewritten(changes).map(false); // the pass runs again before completing
      // Logical capture: the slot is read up to now first, so every change committed before the
      // completion has its changelog entry when the backlog is drained the last time.
      return capture.caughtUp().compose(c -> applier.drain()).compose(v -> {
        // A drain whose batch failed left changes unapplied (a target that refuses them: a constraint,
        // a trigger, an identity column): completing now would stop the applier and lose them.
        ChangeApplier.Backlog after = applier.backlog();
        if (after.failing()) {
          log.warn("job {}: not completing yet: applying captured changes fails ({}); the job completes once they are applied",
              job, after.lastError());
          return Future.succeededFuture(false);
        }
        return ledger.setJobState(job, JobState.COMPLETED, null)
            .compose(x -> capture.completed()) // logical: an unread slot would hold WAL on the source
            .onSuccess(x -> {
              log.info("job {}: completed (in sync and verified)", job);
              finish(JobState.COMPLETED);
            }).map(false);
      });
    });
  }

  /**
   * Without capture, when every segment is verified: the final pass checks that the target still
   * holds what each segment was verified with (parking those that do not), again if a rewrite
   * overlapped it. Returns how many segments are failed after it.
   */
  public Future<Integer> verifyPlainCopy() {
    return plainPass().compose(v -> ledger.progress(job)).map(p -> p.count(SegmentState.FAILED));
  }

  private Future<Void> plainPass() {
    if (!shape.job().verify().finalPass()) return Future.succeededFuture();
    return verification.run()
        .compose(report -> verification.rewrittenSincePass())
        .compose(changes -> changes.isEmpty() ? Future.succeededFuture() : rewritten(changes).compose(v -> plainPass()));
  }

  /**
   * A table of the job was rewritten or truncated: the audit event names it, and the final pass runs
   * (again) before the job completes; with capture on it reads the source afresh.
   */
  private Future<Void> rewritten(List<String> changes) {
    verified = false;
    String msg = String.join("; ", changes) + (enabled()
        ? ": no row trigger saw it; every segment is verified again against a fresh read of the source before the job completes"
        : ": without change capture what it changed in the source is not carried over; the target is checked against what each "
            + "segment was verified with before the job completes");
    log.warn("job {}: {}", job, msg);
    return facts.event(job, null, "table.rewritten", msg, new JsonObject().put("changes", new JsonArray(changes)));
  }

  private void finish(JobState st) {
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
    applierStopped = true;
    capture.stop().compose(v -> applier.stop()).onComplete(x -> {
      if (outcome != null) outcome.tryComplete(st);
    });
  }

  public Future<Void> stop() {
    stopped = true;
    drift.stop();
    if (timer >= 0) vertx.cancelTimer(timer);
    Future<Void> reader = capture.stop();
    return started ? reader.compose(v -> applier.stop()) : reader;
  }
}
