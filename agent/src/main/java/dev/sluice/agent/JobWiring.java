package dev.sluice.agent;

import dev.sluice.cache.JobReads;
import dev.sluice.capture.ChangeApplier;
import dev.sluice.capture.WatchedPool;
import dev.sluice.config.SluiceConfig;
import dev.sluice.copy.CopyPaths;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.job.CatchUp;
import dev.sluice.job.DriftPauser;
import dev.sluice.job.Guards;
import dev.sluice.job.HeatRanker;
import dev.sluice.ledger.SegmentReplan;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.Ledger;
import dev.sluice.metrics.GateMeters;
import dev.sluice.metrics.JobMeters;
import dev.sluice.metrics.Metrics;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.rollback.Rollback;
import dev.sluice.verify.DriftMonitor;
import dev.sluice.verify.FinalVerification;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's parts, wired the same way at start and for a job a reload adds: its migrator, change
 * capture and catch-up (with the final verification and the drift monitor), its meters, its read
 * path, and its abort rule's rollback. Holds the running jobs by name; the HTTP server, the live
 * view and the heartbeat read these maps (a reload may add to them meanwhile).
 */
final class JobWiring {
  private static final Logger log = LoggerFactory.getLogger(JobWiring.class);
  static final int READ_POOL_SIZE = 4;

  /** The pools every job shares: the copy's, the ledger's. */
  record Pools(Pool source, Pool target, Pool ledger) {}

  /** Watched pools to the source and to the target (the appliers', the final verification's). */
  private record WatchedPair(WatchedPool source, WatchedPool target) {}

  private final Vertx vertx;
  private final Supplier<SluiceConfig> config;
  private final Pools pools;
  private final Ledger ledger;
  private final Guards guards;
  private final Metrics metrics;
  private final Clock clock;
  private final LongSupplier nanos;
  private final Map<String, Migrator> migrators = new ConcurrentHashMap<>();
  private final Map<String, JobMeters> meters = new ConcurrentHashMap<>();
  private final Map<String, JobReads> reads = new ConcurrentHashMap<>();
  private final Map<String, HeatRanker> rankers = new ConcurrentHashMap<>();
  private Pool readSource;
  private Pool readTarget;
  private WatchedPair applierPools;
  private WatchedPair verifyPools;

  JobWiring(Vertx vertx, Supplier<SluiceConfig> config, Pools pools, Ledger ledger, Guards guards, Metrics metrics, Clock clock,
      LongSupplier nanos) {
    this.vertx = vertx;
    this.config = config;
    this.pools = pools;
    this.ledger = ledger;
    this.guards = guards;
    this.metrics = metrics;
    this.clock = clock;
    this.nanos = nanos;
  }

  Map<String, Migrator> migrators() {
    return migrators;
  }

  Map<String, JobMeters> meters() {
    return meters;
  }

  Map<String, JobReads> reads() {
    return reads;
  }

  /** One job's migrator with everything attached; {@code index} is the job's place in the config. */
  Migrator add(JobShape shape, int index) {
    SluiceConfig cfg = config.get();
    Migrator m = new Migrator(vertx, shape, "jobs[" + index + "]",
        new CopyPaths.Endpoints(pools.source(), pools.target(), cfg.source(), cfg.target(), cfg.sessions()), ledger, cfg.agent(),
        guards, clock, nanos);
    CatchUp catchUp = catchUp(shape, m);
    m.attach(catchUp);
    JobMeters jm = new JobMeters(metrics.registry(), shape.job().name(), m.stats(), m::live);
    m.observe(jm);
    rankers.put(shape.job().name(), new HeatRanker(vertx, shape, m::config, pools.ledger(),
        new SegmentReplan(pools.ledger(), cfg.agent().id()), pools.source()).start());
    if (catchUp.enabled()) {
      jm.reportBacklog();
      jm.walCapture();
    }
    GateMeters.bind(jm, m::waitingReason, m::paused, m::pausedForDrift, m::heldBySlot, guards == null ? null : guards.health(), cfg.health().sensors());
    meters.put(shape.job().name(), jm);
    migrators.put(shape.job().name(), m);
    rollBackOnAbort(m);
    startReads(shape, m, catchUp, jm);
    return m;
  }

  /** A job's change capture, applier and final verification, sharing the job's pacer. */
  private CatchUp catchUp(JobShape shape, Migrator m) {
    SluiceConfig cfg = config.get();
    ConsistencyLedger facts = new ConsistencyLedger(pools.ledger(), cfg.agent().id());
    WatchedPair own = applierPools();
    ChangeApplier applier = new ChangeApplier(vertx, shape, own.source(), () -> Databases.connect(vertx, cfg.source(), "sluice-applier"),
        new ConsistencyLedger(own.target().pool(), cfg.agent().id()), own.target(), m.pacer());
    WatchedPair checking = verifyPools();
    FinalVerification verification = new FinalVerification(shape, checking.source().timedPool("verifying"),
        checking.target().timedPool("verifying"), facts, applier, m.pacer(),
        why -> m.pauseForDrift(DriftPauser.FINAL_VERIFICATION, why), m.copyPath());
    DriftMonitor drift = new DriftMonitor(vertx, shape, checking.source().timedPool("checking for drift"),
        checking.target().timedPool("checking for drift"), why -> m.pauseForDrift(DriftPauser.DRIFT_MONITOR, why), m::paused);
    return new CatchUp(vertx, shape, pools.source(), Databases.settings(cfg.source(), "sluice-wal"),
        cfg.sessions().stallTimeout(), pools.target(), ledger, applier, verification, drift, clock, nanos);
  }

  /**
   * The appliers' own pools, to the source and to the target, shared by the agent's jobs: sized at the
   * first job for every job of the config with capture on, each statement timed ({@link WatchedPool}).
   */
  private WatchedPair applierPools() {
    if (applierPools == null) {
      SluiceConfig cfg = config.get();
      List<dev.sluice.config.JobConfig> capturing = cfg.jobs().stream().filter(j -> j.capture().enabled()).toList();
      int source = Math.max(1, capturing.stream().mapToInt(ChangeApplier::sourceConnections).sum());
      int target = Math.max(1, capturing.stream().mapToInt(ChangeApplier::targetConnections).sum());
      applierPools = new WatchedPair(WatchedPool.open(vertx, cfg.source(), "source", source, cfg.sessions()),
          WatchedPool.open(vertx, cfg.target(), "target", target, cfg.sessions()));
    }
    return applierPools;
  }

  /**
   * The final verification's own pools, shared by the agent's jobs and their drift monitors, each
   * statement timed like the appliers': a pass (or a drift check) that reads from a database gone silent
   * fails after the stall timeout, and runs again on fresh connections, rather than wait for ever. One
   * session a side per job with a final pass and per job with a drift monitor (each runs one statement
   * at a time) and one more, at most four: a connection still opening when its database went silent
   * cannot be reset (it holds its place in the pool until the database answers), and the spare one lets
   * the pass run again meanwhile.
   */
  private WatchedPair verifyPools() {
    if (verifyPools == null) {
      SluiceConfig cfg = config.get();
      long users = cfg.jobs().stream().mapToLong(j -> (j.verify().finalPass() ? 1 : 0) + (j.drift().enabled() ? 1 : 0)).sum();
      int size = (int) Math.min(4, 1 + Math.max(1, users));
      verifyPools = new WatchedPair(
          WatchedPool.open(vertx, cfg.source(), "final verification", "sluice-verify-source", "source", size, cfg.sessions()),
          WatchedPool.open(vertx, cfg.target(), "final verification", "sluice-verify-target", "target", size, cfg.sessions()));
    }
    return verifyPools;
  }

  /** Closes the appliers' and the final verification's pools, their connections reset first (none waits on a silent database). */
  Future<Void> closeWatchedPools() {
    List<Future<Void>> closing = new ArrayList<>();
    for (WatchedPair p : new WatchedPair[] {applierPools, verifyPools}) {
      if (p == null) continue;
      closing.add(p.source().close().otherwiseEmpty());
      closing.add(p.target().close().otherwiseEmpty());
    }
    return Future.join(closing).mapEmpty();
  }

  /** The job's read path: its own small pools, so reads never queue behind the copy's connections. */
  private void startReads(JobShape shape, Migrator m, CatchUp catchUp, JobMeters jm) {
    SluiceConfig cfg = config.get();
    if (readSource == null) {
      // Each read timed (http.readTimeoutMs): a caller gets its 503 then, not when a silent database comes back.
      long ms = cfg.http().readTimeoutMs();
      readSource = WatchedPool.reads(vertx, cfg.source(), "source", READ_POOL_SIZE, ms, cfg.sessions()).timedOnceHeld("reading rows for the read API");
      readTarget = WatchedPool.reads(vertx, cfg.target(), "target", READ_POOL_SIZE, ms, cfg.sessions()).timedOnceHeld("reading rows for the read API");
    }
    // Only an agent that hears every change Sluice makes to the target may serve from its cache.
    JobReads r = new JobReads(vertx, shape, readSource, readTarget, ledger, () -> catchUp.hearsChanges(m.state()), m::waitingReason,
        metrics.registry(), nanos);
    m.addSegmentListener(seg -> r.segmentVerified());
    if (r.cache() != null) jm.cache(r.cache().caffeine());
    if (catchUp.enabled()) {
      catchUp.applier().addListener((job, keys) -> {
        r.writing(keys);
        return Future.succeededFuture();
      });
    }
    reads.put(shape.job().name(), r);
    // No HTTP server, no readers: warming would only load the target for nothing.
    if (cfg.http().enabled()) r.start();
  }

  /**
   * Rolls a job back from inside the agent (an abort rule, an operator's command): the job's
   * migrator stops as soon as it sees the ledger say rolling back. Refused when the target held rows
   * before the job started (unless forced). {@code rowsPerSecond} null: the job's configured pace.
   */
  Future<Rollback.Outcome> rollback(String job, String reason, Double rowsPerSecond, boolean force) {
    SluiceConfig cfg = config.get();
    Double rate = rowsPerSecond != null ? rowsPerSecond : cfg.job(job).map(j -> j.rollback().rowsPerSecond()).orElse(null);
    return new Rollback(vertx, pools.source(), pools.target(), cfg.agent().id(), nanos).run(job, reason, rate, force);
  }

  /** With {@code rollback.onAbort}, a job aborted by its error budget is rolled back. */
  private void rollBackOnAbort(Migrator m) {
    m.onAbort(reason -> {
      if (!m.config().rollback().onAbort()) return;
      log.warn("job {}: rolling back (rollback.onAbort): {}", m.name(), reason);
      rollback(m.name(), "aborted: " + reason, null, false)
          .onFailure(e -> log.error("job {}: rollback after abort failed: {}", m.name(), ErrorClassifier.describe(e)));
    });
  }

  /** Stops the read paths (the migrators are stopped by the agent). */
  void stopReads() {
    reads.values().forEach(JobReads::stop);
  }

  /** Stops ranking the jobs' segments by heat (cold-first order). */
  void stopRanking() {
    rankers.values().forEach(HeatRanker::stop);
  }

  /** The read pools, for closing (null entries when no job started). */
  List<Pool> readPools() {
    List<Pool> out = new ArrayList<>();
    out.add(readSource);
    out.add(readTarget);
    return out;
  }
}
