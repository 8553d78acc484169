package dev.sluice.job;

import dev.sluice.capture.SlotRisk;
import dev.sluice.config.AgentConfig;
import dev.sluice.config.JobConfig;
import dev.sluice.copy.CopyPath;
import dev.sluice.copy.CopyPaths;
import dev.sluice.copy.PathChoice;
import dev.sluice.copy.SegmentSql;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
import dev.sluice.ledger.Segment;
import dev.sluice.pace.AdaptivePace;
import dev.sluice.pace.Pacer;
import dev.sluice.pace.Schedule;
import dev.sluice.resilience.Backoff;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.verify.Verifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job on this agent, by role: the {@link JobLifecycle} keeps its state in step with the
 * ledger (plan or resume, pause, the end), the {@link WorkerPool} claims segments and runs each one
 * ({@link SegmentRun}, given a small context, not this class), the {@link RateBudget} chooses between
 * the configured, operator and fleet budgets, and the {@link JobGate} says when the job may copy
 * (operator pause, circuit breakers, time windows, health). This class builds them and is the job's
 * face to the rest of the agent: the operator commands, the heartbeat, the live figures.
 */
public final class Migrator {
  private static final Logger log = LoggerFactory.getLogger(Migrator.class);

  private final Vertx vertx;
  private final JobShape shape;
  private volatile JobConfig job;
  private volatile Schedule schedule;
  private volatile SegmentRun.Retries retries;
  private final Ledger ledger;
  private final CopyPath copier;
  private final AdaptivePace pace;
  private final JobGate gate;
  private final Guards guards;
  private final JobStats stats;
  private final RateBudget budget;
  private final JobLifecycle lifecycle;
  private final WorkerPool workers;
  private final SegmentRun.Context segments;
  private final List<SegmentListener> listeners = new CopyOnWriteArrayList<>();
  private final List<JobEvents> observers = new CopyOnWriteArrayList<>();
  private final Work work = new Work();
  private CatchUp catchUp;

  /**
   * {@code guards} null: no health sensors or circuit breakers (the gate still honours pause and
   * schedule). {@code clock} and {@code nanos}: wall and monotonic time for the gate and the figures.
   * {@code at}: the pools and endpoints the job's rows move between (its path is chosen from them,
   * {@link PathChoice}).
   */
  public Migrator(Vertx vertx, JobShape shape, String path, CopyPaths.Endpoints at, Ledger ledger, AgentConfig agent,
      Guards guards, Clock clock, LongSupplier nanos) {
    Pool source = at.sourcePool();
    Pool target = at.targetPool();
    this.vertx = vertx;
    this.shape = shape;
    this.job = shape.job();
    this.schedule = new Schedule(job.pacing().schedule());
    this.retries = retries(job);
    this.ledger = ledger;
    this.guards = guards;
    this.stats = new JobStats(nanos);
    SegmentSql sql = new SegmentSql(shape);
    PathChoice choice = PathChoice.of(job.mode(), at.source().sameDatabaseAs(at.target()), at.source(), at.target());
    this.pace = new AdaptivePace(vertx, job, nanos, j -> CopyPaths.concurrency(j, choice));
    if (choice.kind() == PathChoice.Kind.COPY) pace.assumeFullRate(CopyPaths.concurrency(job, choice) * (double) CopyPaths.STREAM_ROWS_PER_SECOND);
    this.budget = new RateBudget(job.name(), job.pace(), pace, ledger);
    this.gate = new JobGate(vertx, job.name(), ledger, () -> this.schedule, guards, pace, this::pauseSentence, clock);
    this.gate.shareWith(budget::fleetHealth);
    this.lifecycle = new JobLifecycle(vertx, shape, path, source, ledger, sql, gate, () -> this.job);
    this.copier = CopyPaths.open(vertx, shape, choice, at, ledger.agentId(), CopyPaths.concurrency(job, choice),
        new CopyControl(gate, pace, this::batchWritten, guards, () -> this.job.pacing().segmentMaxTime(), lifecycle::stopping,
            nanos));
    this.workers = new WorkerPool(vertx, job.name(), ledger, agent.lease(), gate, pace, guards, stats, () -> CopyPaths.concurrency(this.job, choice),
        () -> this.job.order() == JobConfig.Order.COLD_FIRST, work);
    this.lifecycle.workers(workers);
    this.segments = new SegmentRun.Context(vertx, ledger, copier, new Verifier(sql), source, target, shape, guards, work);
  }

  private static SegmentRun.Retries retries(JobConfig job) {
    return new SegmentRun.Retries(job.retry().maxAttempts(),
        new Backoff(job.retry().baseDelay(), job.retry().maxDelay(), () -> ThreadLocalRandom.current().nextDouble()));
  }

  private void batchWritten(long rows, long nanos) {
    stats.batchWritten(rows, nanos);
    observers.forEach(o -> o.batchWritten(rows, nanos));
  }

  /** Adds an observer of the job's work (its meters). */
  public void observe(JobEvents observer) {
    observers.add(observer);
  }

  /** Adds a listener told of each segment this agent verifies (the read cache warms it). */
  public void addSegmentListener(SegmentListener listener) {
    listeners.add(listener);
  }

  /**
   * Puts a reloaded job config in force (the caller checked that only live settings differ): rate,
   * burst, concurrency, batch size and retries apply from the next batch or segment on.
   */
  public void reconfigure(JobConfig next) {
    JobConfig prev = job;
    job = next;
    schedule = new Schedule(next.pacing().schedule());
    retries = retries(next);
    budget.configChanged(prev.pace(), next.pace());
    pace.reconfigure(next);
    workers.resize();
  }

  public JobConfig config() {
    return job;
  }

  public JobShape shape() {
    return shape;
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
   * wait for), or null while it runs. Statements that wait for a lock say so whatever holds the gate
   * too: a pause or a slow-down stops the next statement, not the one already queued behind a lock.
   */
  public String waitingReason() {
    String r = gate.reason();
    String lock = guards == null ? null : guards.health().lockWait(job.source().table(), job.target().table());
    return lock == null ? r : r == null ? lock : r + "; also " + lock;
  }

  /** This job's live figures on this agent: the one place every reader takes them from. */
  public LiveFigures live() {
    RateShare b = budget.current();
    return new LiveFigures(ledger.agentId(), stats.rows(), stats.rowsPerSecond(), stats.inFlight().get(), stats.retries(),
        pace.pacer().rate(), b.rowsPerSecond(), pace.baseRate(), pace.factor(), pace.factorReason(), pace.concurrency(),
        pace.batchRows(), lifecycle.paused(), waitingReason(), gate.code(), stats.writeSeconds(), copier.serverSide(),
        catchUp == null ? null : catchUp.backlog(), catchUp == null ? null : catchUp.walFigures());
  }

  public JobState state() {
    return lifecycle.state();
  }

  public boolean paused() {
    return lifecycle.paused();
  }

  public boolean serverSide() {
    return copier.serverSide();
  }

  // ---- the rate budget (operator commands and the heartbeat) ----

  /** Sets how many agents share this job's rate budget (this one included); called with every heartbeat. */
  public void shareBudget(int agents) {
    budget.share(agents);
  }

  /** Changes the job's configured rate budget (all agents together) live; this agent takes its share. */
  public void setRate(Double rowsPerSecond, long burstRows) {
    budget.set(rowsPerSecond, burstRows);
  }

  /** An operator set the job's budget through this agent (the ledger has it for the other agents). */
  public void overrideRate(Double rowsPerSecond, long burstRows) {
    budget.override(rowsPerSecond, burstRows);
  }

  /** What this agent's heartbeat read about the job (agents sharing it, an operator's budget, their health). */
  public void fleetView(Roster.JobView v) {
    budget.fleetView(v, job.pace());
  }

  public Roster.FleetHealth fleetHealth() {
    return budget.fleetHealth();
  }

  /** The job's budget and this agent's share of it. */
  public RateShare budget() {
    return budget.current();
  }

  // ---- the job's life ----

  /** Attaches change capture and catch-up (done by the composition root before {@link #start}). */
  public void attach(CatchUp c) {
    this.catchUp = c;
    gate.watchSlot(c::slotDecision);
    // Past its slot's pause level the applier waits too: the reader drains the slot meanwhile.
    c.applier().pausedWhen(() -> lifecycle.paused() || c.slotDecision().holds());
    lifecycle.attach(c);
  }

  /** True while the job waits because its replication slot retains WAL past its pause level. */
  public boolean heldBySlot() {
    return "slot".equals(gate.code());
  }

  /** The decision on the job's replication slot on this agent ({@code NONE} unless this agent reads it). */
  public SlotRisk.Decision slotDecision() {
    return catchUp == null ? SlotRisk.Decision.NONE : catchUp.slotDecision();
  }

  /** Change capture and catch-up, or null when not attached. */
  public CatchUp catchUp() {
    return catchUp;
  }

  /** Resumes or records the plan, then starts the workers. */
  public Future<Void> start() {
    return lifecycle.start(copier.choice().describe(), copier::warm);
  }

  /** Completes when the job has nothing left to do on any agent (or this agent stops). */
  public Future<JobState> finished() {
    return lifecycle.finished();
  }

  /** Asks workers to stop after their current batch; in-flight segments are released by the agent. */
  public Future<Void> stop() {
    // The COPY path's sessions and threads go once no segment can use them.
    return lifecycle.stop().onComplete(x -> copier.close());
  }

  /** The path this job's segments take (the final pass reads the target back as it does). */
  public CopyPath copyPath() {
    return copier;
  }

  /** Told when this agent aborts the job by its error budget (the agent may then roll it back). */
  public void onAbort(Consumer<String> listener) {
    lifecycle.onAbort(listener);
  }

  /**
   * Pauses the job because its data or schema drifted; an operator resumes it. {@code by} is the part
   * of Sluice that saw it, named in the reason the job shows.
   */
  public Future<Void> pauseForDrift(DriftPauser by, String reason) {
    log.warn("job {}: paused by {}: {}", job.name(), by.actor(), reason);
    return setPaused(true, reason, by.actor());
  }

  /** Whether the job is paused by Sluice itself ({@link DriftPauser}, on any agent), not by an operator. */
  public boolean pausedForDrift() {
    return lifecycle.paused() && DriftPauser.named(lifecycle.pausedBy());
  }

  public Future<Void> setPaused(boolean pause, String reason, String actor) {
    return lifecycle.setPaused(pause, reason, actor);
  }

  /**
   * An operator's abort: the job moves to {@code aborted} (one ledger statement with its event), its
   * workers stop claiming on every agent, and everything written so far and the ledger are kept.
   * Unlike an error-budget abort it never triggers {@code rollback.onAbort}: rolling back is the
   * operator's separate decision. Returns false when the job has already ended (nothing to abort).
   */
  public Future<Boolean> abort(String reason, String actor) {
    return lifecycle.abort(reason, actor);
  }

  /** The reason an operator's abort records: who aborted the job, and why. */
  public static String abortReason(String actor, String reason) {
    return "aborted by " + actor + (reason == null ? "" : ": " + reason);
  }

  /** Re-queues parked segments and starts working again. */
  public Future<Integer> retry(Integer seq, String actor) {
    return lifecycle.retry(seq, actor);
  }

  private String pauseSentence() {
    return lifecycle.pauseSentence();
  }

  /** What the workers and a segment's run ask of the job. */
  private final class Work implements WorkerPool.Job, SegmentRun.Job {
    @Override
    public boolean halted() {
      return lifecycle.halted();
    }

    @Override
    public WorkerPool.Run run(Segment seg) {
      return new SegmentRun(segments, seg).run(seg.attempts() > 1);
    }

    @Override
    public Future<Void> lastWorkerLeft() {
      return lifecycle.lastWorkerLeft();
    }

    @Override
    public Future<Void> whenOpen() {
      return gate.whenOpen();
    }

    @Override
    public SegmentRun.Retries retries() {
      return retries;
    }

    @Override
    public boolean stopping() {
      return lifecycle.stopping();
    }

    @Override
    public void verified(Segment seg) {
      listeners.forEach(l -> l.verified(seg));
    }

    @Override
    public Future<Void> parked() {
      return lifecycle.segmentParked();
    }

    @Override
    public Future<Void> pauseForDrift(DriftPauser by, String reason) {
      return Migrator.this.pauseForDrift(by, reason);
    }

    @Override
    public void error(ErrorClass cls) {
      observers.forEach(o -> o.error(cls));
    }

    @Override
    public void retrying() {
      pace.onDrop();
      stats.retried();
    }
  }
}
