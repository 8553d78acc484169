package dev.sluice.job;

import dev.sluice.config.AgentConfig;
import dev.sluice.config.ConfigException;
import dev.sluice.config.JobConfig;
import dev.sluice.copy.SegmentCopier;
import dev.sluice.copy.SegmentSql;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
import dev.sluice.ledger.Segment;
import dev.sluice.ledger.SegmentState;
import dev.sluice.metrics.JobMeters;
import dev.sluice.pace.AdaptivePace;
import dev.sluice.pace.Pacer;
import dev.sluice.pace.Schedule;
import dev.sluice.plan.Planner;
import dev.sluice.resilience.Backoff;
import dev.sluice.resilience.ErrorBudget;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.verify.Bisector;
import dev.sluice.verify.DataDrift;
import dev.sluice.verify.Verifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job on this agent: resumes the ledger's plan (or plans and records it), then runs
 * {@code concurrency.max} segment workers, of which only as many as the adaptive concurrency limit
 * hold a segment at a time. A worker waits for the job's {@link JobGate} (operator pause, circuit
 * breakers, time windows, health), claims a segment lease and runs it ({@link SegmentRun}); then
 * claims the next. When nothing is left to claim and no segment is in flight anywhere, the job is
 * finished: completed, or failed when segments are parked. A spent error budget aborts it.
 */
public final class Migrator {
  private static final Logger log = LoggerFactory.getLogger(Migrator.class);

  private final Vertx vertx;
  private final JobShape shape;
  private volatile JobConfig job;
  private volatile Schedule schedule;
  private final String path;
  private final Pool source;
  private final Pool target;
  private final Ledger ledger;
  private final AgentConfig agent;
  private final SegmentSql sql;
  private final SegmentCopier copier;
  private final Verifier verifier;
  private volatile Backoff backoff;
  private final JobMeters meters;
  private final AdaptivePace pace;
  private final JobGate gate;
  private final Guards guards;
  private final AtomicInteger holding = new AtomicInteger();
  private volatile java.util.function.Consumer<String> onAbort = reason -> {};
  private final JobStats stats = new JobStats(System::nanoTime);
  private final AtomicInteger workers = new AtomicInteger();
  /** Workers waiting because nothing was left to claim; woken when a segment of ours finishes. */
  private final java.util.Queue<Runnable> idleWorkers = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private volatile boolean stopping;
  private volatile boolean paused;
  private volatile String pauseReason;
  private volatile JobState state = JobState.PLANNING;
  private volatile Promise<JobState> finished = Promise.promise();
  private volatile RateShare budget;
  private volatile boolean budgetOverridden;
  private volatile Roster.FleetHealth fleetHealth = Roster.FleetHealth.NONE;
  private long syncTimer = -1;
  private final List<SegmentListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private CatchUp catchUp;

  public Migrator(Vertx vertx, JobShape shape, String path, Pool source, Pool target, Ledger ledger, AgentConfig agent,
      boolean sameDatabase, MeterRegistry registry) {
    this(vertx, shape, path, source, target, ledger, agent, sameDatabase, registry, null);
  }

  /** {@code guards} null: no health sensors or circuit breakers (the gate still honours pause and schedule). */
  public Migrator(Vertx vertx, JobShape shape, String path, Pool source, Pool target, Ledger ledger, AgentConfig agent,
      boolean sameDatabase, MeterRegistry registry, Guards guards) {
    this.vertx = vertx;
    this.shape = shape;
    this.job = shape.job();
    this.schedule = new Schedule(job.pacing().schedule());
    this.path = path;
    this.source = source;
    this.target = target;
    this.ledger = ledger;
    this.agent = agent;
    this.sql = new SegmentSql(shape);
    this.budget = new RateShare(job.pace().rowsPerSecond(), job.pace().burstRows(), 1);
    this.guards = guards;
    this.pace = new AdaptivePace(vertx, job);
    this.gate = new JobGate(vertx, job.name(), ledger, () -> this.schedule, guards, pace,
        () -> paused ? "paused by an operator" + (pauseReason == null ? "" : ": " + pauseReason) : null, Clock.systemUTC());
    this.gate.shareWith(() -> fleetHealth);
    boolean serverSide = job.mode() == JobConfig.CopyMode.SERVER || (job.mode() == JobConfig.CopyMode.AUTO && sameDatabase);
    this.copier = new SegmentCopier(source, target, sql, ledger.agentId(), serverSide,
        new CopyControl(gate, pace, this::batchWritten, guards, () -> this.job.pacing().segmentMaxTime(), () -> stopping));
    this.verifier = new Verifier(sql);
    this.backoff = backoff(job);
    this.meters = new JobMeters(registry, job.name(), stats, pace.pacer()::rate, pace::concurrency, () -> paused);
  }

  private static Backoff backoff(JobConfig job) {
    return new Backoff(job.retry().baseDelay(), job.retry().maxDelay(), () -> ThreadLocalRandom.current().nextDouble());
  }

  private void batchWritten(long rows, long nanos) {
    stats.batchWritten(rows, nanos);
    meters.batchWritten(rows, nanos);
  }

  public JobMeters meters() {
    return meters;
  }

  public JobConfig config() {
    return job;
  }

  public JobShape shape() {
    return shape;
  }

  /**
   * Puts a reloaded job config in force (the caller checked that only live settings differ): rate,
   * burst, concurrency, batch size and retries apply from the next batch or segment on.
   */
  public void reconfigure(JobConfig next) {
    JobConfig prev = job;
    job = next;
    schedule = new Schedule(next.pacing().schedule());
    if (!java.util.Objects.equals(prev.pace(), next.pace())) {
      // The config's pace changed: it is in force again, over an operator's budget, on every agent.
      budgetOverridden = false;
      setRate(next.pace().rowsPerSecond(), next.pace().burstRows());
      ledger.roster().clearBudget(job.name(), "config reloaded on agent " + ledger.agentId())
          .onFailure(e -> log.warn("job {}: cannot drop the operator's budget in the ledger: {}", job.name(), ErrorClassifier.describe(e)));
    }
    backoff = backoff(next);
    pace.reconfigure(next);
    int more = next.concurrencyMax() - workers.get();
    if (more > 0 && workers.get() > 0 && !stopping) {
      for (int i = 0; i < more; i++) {
        workers.incrementAndGet();
        vertx.runOnContext(v -> worker());
      }
    }
  }

  /** Adds a listener told of each segment this agent verifies (the read cache warms it). */
  public void addSegmentListener(SegmentListener listener) {
    listeners.add(listener);
  }

  public String name() {
    return job.name();
  }

  public String agentId() {
    return ledger.agentId();
  }

  public JobStats stats() {
    return stats;
  }

  public Pacer pacer() {
    return pace.pacer();
  }

  /** This job's live pace on this agent: rate, headroom factor, concurrency, batch size. */
  public AdaptivePace pace() {
    return pace;
  }

  /**
   * Why the job is waiting right now (operator, breaker, schedule or health, or a lock its statements
   * wait for), or null while it runs.
   */
  public String waitingReason() {
    String r = gate.reason();
    return r != null || guards == null ? r : guards.health().lockWait(job.source().table(), job.target().table());
  }

  JobMeters metersOf() {
    return meters;
  }

  void verified(Segment seg) {
    listeners.forEach(l -> l.verified(seg));
  }

  JobGate gate() {
    return gate;
  }

  Guards guards() {
    return guards;
  }

  JobConfig job() {
    return job;
  }

  Ledger ledger() {
    return ledger;
  }

  Pool target() {
    return target;
  }

  Pool source() {
    return source;
  }

  SegmentSql sql() {
    return sql;
  }

  SegmentCopier copier() {
    return copier;
  }

  Verifier verifier() {
    return verifier;
  }

  Backoff backoff() {
    return backoff;
  }

  Vertx vertx() {
    return vertx;
  }

  boolean stopping() {
    return stopping;
  }

  /**
   * Sets how many agents share this job's rate budget (this one included); called with every
   * heartbeat. This agent's pacer gets the configured rate and burst divided by that number.
   */
  public void shareBudget(int agents) {
    applyBudget(budget.withAgents(agents));
  }

  /** Changes the job's configured rate budget (all agents together) live; this agent takes its share. */
  public void setRate(Double rowsPerSecond, long burstRows) {
    applyBudget(new RateShare(rowsPerSecond, burstRows, budget.agents()));
  }

  private synchronized void applyBudget(RateShare b) {
    budget = b;
    pace.setBaseRate(b.shareRowsPerSecond(), b.shareBurstRows());
  }

  /** An operator set the job's budget through this agent (the ledger has it for the other agents). */
  public void overrideRate(Double rowsPerSecond, long burstRows) {
    budgetOverridden = true;
    setRate(rowsPerSecond, burstRows);
  }

  /**
   * What this agent's heartbeat read about the job: how many agents share the budget, the operator's
   * budget if one is set (through any agent), and the other agents' health verdicts.
   */
  public void fleetView(Roster.JobView v) {
    Roster.Budget b = v.budget();
    if (b != null && (!budgetOverridden || !java.util.Objects.equals(b.rowsPerSecond(), budget.rowsPerSecond())
        || b.burstRows() != budget.burstRows())) {
      log.info("job {}: rate budget {} set by {} (through the ledger)", job.name(),
          b.rowsPerSecond() == null ? "unpaced" : Math.round(b.rowsPerSecond()) + " rows/s", b.actor());
      budgetOverridden = true;
      applyBudget(new RateShare(b.rowsPerSecond(), b.burstRows(), v.sharing()));
    } else if (b == null && budgetOverridden) {
      log.info("job {}: the operator's rate budget is dropped; the config's pace is in force", job.name());
      budgetOverridden = false;
      applyBudget(new RateShare(job.pace().rowsPerSecond(), job.pace().burstRows(), v.sharing()));
    } else {
      shareBudget(v.sharing());
    }
    fleetHealth = v.others();
  }

  /** The other live agents' health verdicts on this job, as of this agent's last heartbeat. */
  public Roster.FleetHealth fleetHealth() {
    return fleetHealth;
  }

  /** The job's budget and this agent's share of it. */
  public RateShare budget() {
    return budget;
  }

  public JobState state() {
    return state;
  }

  public boolean paused() {
    return paused;
  }

  public boolean serverSide() {
    return copier.serverSide();
  }

  /** Attaches change capture and catch-up (done by the composition root before {@link #start}). */
  public void attach(CatchUp c) {
    this.catchUp = c;
    c.applier().pausedWhen(() -> paused);
    if (c.enabled()) {
      meters.changeBacklog(() -> {
        var b = c.applier().backlog();
        return new dev.sluice.metrics.JobMeters.Backlog(Math.max(0, b.rows()), b.oldestAgeMs() / 1000.0);
      });
    }
  }

  /** Change capture and catch-up, or null when not attached. */
  public CatchUp catchUp() {
    return catchUp;
  }

  /** Pauses the job because the data or schema drifted; an operator resumes it. */
  public Future<Void> pauseForDrift(String reason) {
    log.warn("job {}: paused: {}", job.name(), reason);
    return setPaused(true, reason, "drift detector");
  }

  /** Completes when the job has nothing left to do on any agent (or this agent stops). */
  public Future<JobState> finished() {
    return finished.future();
  }

  /** Resumes or records the plan, then starts the workers. */
  public Future<Void> start() {
    ConsistencyLedger facts = new ConsistencyLedger(ledger.pool(), ledger.agentId());
    return ledger.job(job.name())
        // A job that was rolled back is planned afresh under the same name.
        .compose(row -> row != null && row.state() == JobState.ROLLED_BACK ? facts.forgetRolledBack(job.name()).map(x -> null) : Future.succeededFuture(row))
        .compose(row -> row == null ? planAndRecord() : checkSameJob(row))
        .compose(v -> ledger.job(job.name()))
        .compose(row -> {
          paused = row.paused();
          pauseReason = row.pauseReason();
          state = row.state();
          gate.start();
          log.info("job {}: {} ({} segments, {} rows planned){}", job.name(), row.state().db(), row.segmentsPlanned(), row.rowsPlanned(),
              copier.serverSide() ? ", server-side copy" : "");
          if (!state.writing()) return Future.succeededFuture();
          // Capture goes in before this agent's first claim, so no segment is ever copied without it.
          return catchUp == null ? Future.succeededFuture() : catchUp.prepare();
        })
        .map(v -> {
          if (state == JobState.ROLLING_BACK) log.warn("job {}: a rollback is under way; run `sluice rollback` to finish it", job.name());
          syncTimer = vertx.setPeriodic(1000, t -> syncFromLedger());
          launch();
          return null;
        });
  }

  private Future<Void> planAndRecord() {
    return JobPlanning.planAndRecord(shape, sql, source, ledger);
  }

  private Future<Void> checkSameJob(Ledger.JobRow row) {
    return JobPlanning.checkSameJob(row, job, shape, path);
  }

  private void launch() {
    if (state == JobState.COMPLETED || state == JobState.ABORTED || state == JobState.ROLLING_BACK || state == JobState.ROLLED_BACK) {
      finished.tryComplete(state);
      return;
    }
    if (!finished.future().isComplete() && workers.get() > 0) return;
    if (finished.future().isComplete()) finished = Promise.promise();
    for (int i = 0; i < job.concurrencyMax(); i++) {
      workers.incrementAndGet();
      vertx.runOnContext(v -> worker());
    }
  }

  private void syncFromLedger() {
    ledger.job(job.name()).onSuccess(row -> {
      if (row == null) return;
      if (row.paused() != paused) log.info("job {}: {}", job.name(), row.paused() ? "paused: " + row.pauseReason() : "resumed");
      paused = row.paused();
      pauseReason = row.pauseReason();
      if (row.state() == JobState.ABORTED && state != JobState.ABORTED) {
        log.error("job {}: aborted: {}", job.name(), row.reason());
        state = JobState.ABORTED;
      }
      if ((row.state() == JobState.ROLLING_BACK || row.state() == JobState.ROLLED_BACK) && !stopping) {
        log.warn("job {}: {} by an operator; this agent stops working on it", job.name(), row.state().db().replace('_', ' '));
        state = row.state();
        stopping = true;
        (catchUp == null ? Future.<Void>succeededFuture() : catchUp.stop()).onComplete(x -> {
          if (workers.get() == 0) finished.tryComplete(state);
        });
        return;
      }
      // Another agent or an operator re-queued failed segments: start working again.
      if (row.state() == JobState.COPYING && state != JobState.COPYING && workers.get() == 0 && !stopping) {
        state = JobState.COPYING;
        launch();
      }
    });
  }

  private void worker() {
    if (stopping || state == JobState.ABORTED) {
      workerExit();
      return;
    }
    // Concurrency was lowered live: surplus workers leave between segments (never the last one).
    if (workers.get() > job.concurrencyMax()) {
      if (workers.decrementAndGet() >= job.concurrencyMax()) return;
      workers.incrementAndGet(); // another worker left first; this one stays
    }
    if (!gate.open()) {
      // Woken when the gate opens (or the job stops), not one polling tick later.
      gate.whenOpen().onComplete(v -> vertx.runOnContext(x -> worker()));
      return;
    }
    if (holding.get() >= pace.concurrency()) {
      // A slot frees (or the limit rises) when a segment ends: woken then, or one tick later.
      sleepUntilWoken(JobGate.TICK_MS);
      return;
    }
    holding.incrementAndGet();
    ledger.claim(job.name(), agent.lease()).onComplete(ar -> {
      if (ar.failed() || ar.result() == null) holding.decrementAndGet();
      if (ar.failed()) {
        if (guards != null) guards.target().failure(ar.cause());
        log.warn("job {}: cannot claim a segment: {}", job.name(), ErrorClassifier.describe(ar.cause()));
        vertx.setTimer(1000 + ThreadLocalRandom.current().nextInt(1000), t -> worker());
        return;
      }
      Segment seg = ar.result();
      if (seg == null) {
        idle();
        return;
      }
      stats.inFlight().incrementAndGet();
      new SegmentRun(this, seg).attempt(1, seg.attempts() > 1).onComplete(x -> {
        // Whatever happened, this worker is done with the segment: the heartbeat stops renewing it.
        ledger.leases().drop(seg);
        stats.inFlight().decrementAndGet();
        holding.decrementAndGet();
        if (x.failed()) log.warn("job {} segment {}: {}", job.name(), seg.seq(), ErrorClassifier.describe(x.cause()));
        worker();
        wakeSleepers();
      });
    });
  }

  /** Told when this agent aborts the job by its error budget (the agent may then roll it back). */
  public void onAbort(java.util.function.Consumer<String> listener) {
    this.onAbort = listener;
  }

  /** A segment was parked failed: abort the job if its error budget is spent (before this worker claims again). */
  Future<Void> segmentParked() {
    if (!job.pacing().abort().limited()) return Future.succeededFuture();
    return ledger.progress(job.name())
        .compose(p -> {
          int failed = p.count(SegmentState.FAILED);
          String why = ErrorBudget.of(job.pacing().abort()).exceeded(failed, failed + p.count(SegmentState.VERIFIED));
          if (why == null || state == JobState.ABORTED) return Future.<Void>succeededFuture();
          return ledger.setJobState(job.name(), JobState.ABORTED, why).onSuccess(v -> {
            state = JobState.ABORTED;
            log.error("job {}: aborted: {}; everything written so far and the ledger are kept", job.name(), why);
            onAbort.accept(why);
          });
        })
        .recover(e -> {
          log.warn("job {}: cannot check the error budget: {}", job.name(), ErrorClassifier.describe(e));
          return Future.succeededFuture();
        });
  }


  private void idle() {
    ledger.progress(job.name()).onComplete(ar -> {
      if (ar.succeeded() && ar.result().finished()) {
        workerExit();
        // The others need not sleep out their timers to find the job finished too.
        wakeSleepers();
      } else {
        // Segments are in flight on other agents (or the ledger is unreachable): their leases may
        // expire and become ours to take over. A segment finishing here wakes us sooner, so the
        // job ends when its last segment does, not up to one poll later.
        sleepUntilWoken(Math.min(2000, agent.lease().toMillis() / 2));
      }
    });
  }

  private void wakeSleepers() {
    for (Runnable w; (w = idleWorkers.poll()) != null; ) {
      Runnable sleeper = w;
      vertx.runOnContext(v -> sleeper.run());
    }
  }

  /** Runs this worker again when a local segment ends, or after {@code ms}, whichever comes first. */
  private void sleepUntilWoken(long ms) {
    java.util.concurrent.atomic.AtomicBoolean woke = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable wake = () -> {
      if (woke.compareAndSet(false, true)) worker();
    };
    idleWorkers.add(wake);
    vertx.setTimer(ms, t -> {
      idleWorkers.remove(wake);
      wake.run();
    });
  }

  private void workerExit() {
    if (workers.decrementAndGet() > 0) return;
    if (stopping || state == JobState.ABORTED) {
      finished.tryComplete(state);
      return;
    }
    ledger.progress(job.name())
        .compose(p -> {
          int copyFailed = p.count(SegmentState.FAILED);
          // With capture on, a fully copied job goes on catching up instead of completing.
          if (copyFailed == 0 && catchUp != null && catchUp.enabled()) return catchUp.copyDone();
          // A plain copy's final pass may park segments whose target range changed since.
          return (copyFailed == 0 && catchUp != null ? catchUp.verifyPlainCopy() : Future.succeededFuture(copyFailed)).compose(failed -> {
            JobState st = failed > 0 ? JobState.FAILED : JobState.COMPLETED;
            String reason = failed > 0 ? failed + " of " + p.total() + " segments failed; fix the cause, then `sluice retry`" : null;
            return ledger.setJobState(job.name(), st, reason).map(st);
          });
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            state = ar.result();
            log.info("job {}: {}", job.name(), state.db());
            finished.tryComplete(state);
          } else {
            log.warn("job {}: cannot record completion: {}", job.name(), ErrorClassifier.describe(ar.cause()));
            workers.incrementAndGet();
            vertx.setTimer(2000, t -> idle());
          }
        });
  }

  /** Asks workers to stop after their current batch; in-flight segments are released by the agent. */
  public Future<Void> stop() {
    stopping = true;
    if (syncTimer >= 0) vertx.cancelTimer(syncTimer);
    gate.stop();
    if (catchUp != null) catchUp.stop().onComplete(x -> {
      if (workers.get() == 0) finished.tryComplete(state);
    });
    if (workers.get() == 0) finished.tryComplete(state);
    return finished.future().mapEmpty();
  }

  /**
   * An operator's abort: the job moves to {@code aborted} (one ledger statement with its event), its
   * workers stop claiming on every agent, and everything written so far and the ledger are kept.
   * Unlike an error-budget abort it never triggers {@code rollback.onAbort}: rolling back is the
   * operator's separate decision. Returns false when the job has already ended (nothing to abort).
   */
  public Future<Boolean> abort(String reason, String actor) {
    if (state == JobState.COMPLETED || state == JobState.ABORTED || state == JobState.ROLLING_BACK || state == JobState.ROLLED_BACK) {
      return Future.succeededFuture(false);
    }
    String why = "aborted by " + actor + (reason == null ? "" : ": " + reason);
    return ledger.setJobState(job.name(), JobState.ABORTED, why)
        .compose(v -> ledger.job(job.name()))
        .map(row -> {
          boolean aborted = row != null && row.state() == JobState.ABORTED;
          if (aborted) {
            state = JobState.ABORTED;
            log.error("job {}: {}; everything written so far and the ledger are kept", job.name(), why);
            // Catching up stops too; capture stays installed until a rollback or cleanup removes it.
            if (catchUp != null) catchUp.stop();
            if (workers.get() == 0) finished.tryComplete(state);
          }
          return aborted;
        });
  }

  public Future<Void> setPaused(boolean pause, String reason, String actor) {
    return ledger.setPaused(job.name(), pause, reason, actor).onSuccess(v -> {
      paused = pause;
      pauseReason = pause ? reason : null;
    });
  }

  /** Re-queues parked segments and starts working again. */
  public Future<Integer> retry(Integer seq, String actor) {
    return ledger.retryFailed(job.name(), seq, actor).onSuccess(n -> {
      if (n > 0 && workers.get() == 0 && !stopping) {
        state = JobState.COPYING;
        launch();
      }
    });
  }

  /** The keys that differ in a segment that failed verification twice, found by bisecting its range. */
  Future<String> differingKeys(Segment seg) {
    return new Bisector(shape, verifier).differingKeys(source, target, seg.range(), 20)
        .map(keys -> String.join(", ", keys.stream().map(Bisector::describe).toList()))
        .otherwise("");
  }
}
