package dev.sluice.agent;

import dev.sluice.cache.JobReads;
import dev.sluice.config.ConfigDiff;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigWatcher;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.ConfigVersions;
import dev.sluice.db.Databases;
import dev.sluice.http.ControlServer;
import dev.sluice.inspect.JobShape;
import dev.sluice.job.Replanner;
import dev.sluice.ledger.SegmentReplan;
import dev.sluice.capture.ChangeApplier;
import dev.sluice.job.CatchUp;
import dev.sluice.health.HealthMonitor;
import dev.sluice.job.Guards;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.rollback.Rollback;
import dev.sluice.verify.DriftMonitor;
import dev.sluice.verify.FinalVerification;
import dev.sluice.ledger.HeldLeases;
import dev.sluice.resilience.DatabaseBreaker;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.Roster;
import dev.sluice.metrics.GateMeters;
import dev.sluice.health.Throttler;
import dev.sluice.metrics.LiveView;
import dev.sluice.metrics.Metrics;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: the only place that creates collaborators. Validates the config against the
 * databases, brings the ledger schema up to date, registers this agent, starts one {@link Migrator}
 * per job and the HTTP server, and keeps the agent's heartbeat (which renews its leases).
 */
public final class Agent {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  public static final String VERSION = dev.sluice.build.BuildInfo.CURRENT.version() + "+" + dev.sluice.build.BuildInfo.CURRENT.commit(); // roster
  static final int READ_POOL_SIZE = 4;

  // Replaced by a config reload (jobs only: the rest needs a restart, see ConfigDiff).
  private volatile SluiceConfig config;
  private Path configFile;
  private String host;
  private ConfigWatcher watcher;
  private final Vertx vertx;
  private final boolean ownsVertx;
  private Pool source;
  private Pool target;
  private Pool ledgerPool;
  private Ledger ledger;
  private Replanner replanner;
  // Jobs can be added by a config reload while the HTTP server and the live view read these maps.
  private final Map<String, Migrator> migrators = new ConcurrentHashMap<>();
  private final Map<String, JobReads> reads = new ConcurrentHashMap<>();
  private Pool readSource;
  private Pool readTarget;
  private final Metrics metrics;
  private LiveView liveView;
  private ControlServer http;
  private Guards guards;
  private long heartbeatTimer = -1;
  private volatile boolean beating;
  private volatile long beatStartedNanos;
  private volatile boolean healthSettled;
  private volatile boolean stopped;

  /** An agent with its own Vert.x, whose HTTP, pool and JVM metrics report to the agent's registry. */
  public Agent(SluiceConfig config) {
    this(config, new Metrics());
  }

  private Agent(SluiceConfig config, Metrics metrics) {
    this(config, metrics.newVertx(), true, metrics);
  }

  /** An agent on a caller's Vert.x (whose own metrics, if any, are not in this agent's registry). */
  public Agent(SluiceConfig config, Vertx vertx, boolean ownsVertx) {
    this(config, vertx, ownsVertx, new Metrics());
  }

  private Agent(SluiceConfig config, Vertx vertx, boolean ownsVertx, Metrics metrics) {
    this.config = config;
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.metrics = metrics;
  }

  public Metrics metrics() {
    return metrics;
  }

  public LiveView liveView() {
    return liveView;
  }

  /** Watches {@code file} (the one this agent's config was loaded from) and hot-reloads it. Call before start. */
  public Agent watching(Path file) {
    this.configFile = file;
    return this;
  }

  /** The config version in force and the last reload's outcome, for {@code /api/config} and the dashboard. */
  public JsonObject configStatus() {
    return watcher == null ? new JsonObject().put("watching", false) : watcher.status().copy().put("watching", true);
  }

  /** The ledger's record of config versions, newest first. */
  public Future<io.vertx.core.json.JsonArray> configVersions(int limit) {
    return new ConfigVersions(ledgerPool, config.agent().id()).recent(limit);
  }

  public Vertx vertx() {
    return vertx;
  }

  public SluiceConfig config() {
    return config;
  }

  public Ledger ledger() {
    return ledger;
  }

  public Pool targetPool() {
    return target;
  }

  public Map<String, Migrator> migrators() {
    return migrators;
  }

  /** Each job's read path (cache, rollout, router), by job name. */
  public Map<String, JobReads> reads() {
    return reads;
  }

  /** Port the HTTP server listens on (useful when configured as 0), or -1 when disabled. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  public Future<Void> start() {
    // The checks and the host name lookup (DNS) may block: on a worker, never on an event loop.
    return vertx.executeBlocking(() -> {
      host = ConfigLoader.hostName();
      return Validation.check(vertx, config);
    }, false).compose(this::startWith);
  }

  private Future<Void> startWith(List<JobShape> shapes) {
    int workers = config.jobs().stream().mapToInt(j -> j.concurrencyMax()).sum();
    source = Databases.pool(vertx, config.source(), "sluice-source", Math.max(config.source().poolSize(), workers + 3), config.sessions());
    target = Databases.pool(vertx, config.target(), "sluice-target", Math.max(config.target().poolSize(), workers + 2), config.sessions());
    ledgerPool = Databases.pool(vertx, config.target(), "sluice-ledger", 4, config.sessions());
    guards = new Guards(new HealthMonitor(vertx, config.health(), config.source(), config.target(), System::nanoTime),
        new DatabaseBreaker(vertx, "source", config.source(), config.breaker(), System::nanoTime),
        new DatabaseBreaker(vertx, "target", config.target(), config.breaker(), System::nanoTime));
    guards.health().listen((db, error) -> {
      DatabaseBreaker b = db.equals("source") ? guards.source() : guards.target();
      if (error == null) b.success();
      else b.failure(error);
    });
    guards.health().start();
    guards.source().start();
    guards.target().start();
    ledger = new Ledger(ledgerPool, config.agent().id());
    replanner = new Replanner(source, new SegmentReplan(ledgerPool, config.agent().id()));
    return LedgerSchema.ensure(ledgerPool)
        .compose(v -> ledger.roster().register(host, ProcessHandle.current().pid(), VERSION, config.agent().lease(),
            config.agent().heartbeat()))
        .compose(v -> {
          for (int i = 0; i < shapes.size(); i++) {
            JobShape shape = shapes.get(i);
            newMigrator(shape, i);
          }
          // A first heartbeat before any worker starts: an agent joining a running job takes its share
          // of the rate budget from its first batch, not one heartbeat later.
          return heartbeat().otherwiseEmpty();
        })
        .compose(v -> {
          heartbeatTimer = vertx.setPeriodic(config.agent().heartbeat().toMillis(), t -> {
            // One heartbeat at a time, unless one has hung for a whole lease term (its leases are lost
            // anyway; a fresh one at least keeps the agent's liveness honest).
            if (!beating || System.nanoTime() - beatStartedNanos > config.agent().lease().toNanos()) heartbeat();
          });
          return Future.all(migrators.values().stream().map(Migrator::start).toList()).mapEmpty();
        })
        .compose(v -> {
          if (configFile == null) return Future.succeededFuture();
          watcher = new ConfigWatcher(vertx, configFile, new ConfigVersions(ledgerPool, config.agent().id()), this::applyReload);
          return watcher.start();
        })
        .compose(v -> {
          liveView = new LiveView(vertx, ledgerPool, () -> migrators, this::agentStatus);
          return liveView.start();
        })
        .compose(v -> {
          if (!config.http().enabled()) return Future.succeededFuture();
          http = new ControlServer(vertx, config, this);
          return http.start();
        })
        .onSuccess(v -> log.info("agent {} started: {} job(s), source {}, target {}{}", config.agent().id(), migrators.size(),
            config.source().redacted(), config.target().redacted(),
            http == null ? "" : ", http://" + config.http().host() + ":" + http.port() + "/"))
        .mapEmpty();
  }

  /**
   * Puts a reloaded config in force: new jobs are checked against the databases first (any problem
   * refuses the whole reload, nothing changed), then existing jobs take their new settings and the
   * new jobs start. Only jobs and the health sensors' settings change: the rest of the file cannot
   * differ (ConfigDiff refused it).
   */
  private Future<Void> applyReload(SluiceConfig next, ConfigDiff.Result diff) {
    SluiceConfig merged = new SluiceConfig(config.source(), config.target(), config.http(), config.agent(), next.jobs(),
        next.health(), config.breaker(), config.sessions());
    boolean healthChanged = guards != null && !next.health().equals(config.health());
    if (healthChanged && !HealthMonitor.ids(next.health()).equals(HealthMonitor.ids(config.health()))) {
      return Future.failedFuture(new ConfigException("health", "sensors " + HealthMonitor.ids(config.health()) + " -> "
          + HealthMonitor.ids(next.health()) + ": adding or removing a sensor needs a restart (thresholds and timings reload live)"));
    }
    List<JobConfig> added = next.jobs().stream().filter(j -> diff.addedJobs().contains(j.name())).toList();
    Future<List<JobShape>> shapes = added.isEmpty() ? Future.succeededFuture(List.of())
        : vertx.executeBlocking(() -> Validation.check(vertx, new SluiceConfig(config.source(), config.target(), config.http(),
            config.agent(), added, config.health(), config.breaker(), config.sessions())), false);
    return shapes.compose(newShapes -> {
      if (healthChanged) guards.health().reconfigure(next.health());
      for (JobConfig j : next.jobs()) {
        Migrator m = migrators.get(j.name());
        if (m == null) continue;
        long segmentRows = m.config().segmentRows();
        m.reconfigure(j);
        JobReads r = reads.get(j.name());
        if (r != null) r.applyConfig(j);
        // Pending segments nobody started are re-cut at the new size (in the background: the walk reads the source).
        if (segmentRows != j.segmentRows()) replanner.replan(m.shape(), segmentRows, j.segmentRows());
      }
      config = merged;
      List<Future<Void>> starts = new ArrayList<>();
      for (JobShape shape : newShapes) {
        int index = next.jobs().indexOf(shape.job());
        starts.add(newMigrator(shape, index).start());
      }
      return Future.all(starts).mapEmpty();
    });
  }

  /** One job's migrator with everything attached (same at start and for a job added by a reload). */
  private Migrator newMigrator(JobShape shape, int index) {
    Migrator m = new Migrator(vertx, shape, "jobs[" + index + "]", source, target, ledger, config.agent(), config.sameDatabase(),
        metrics.registry(), guards);
    m.attach(catchUp(shape, m));
    migrators.put(shape.job().name(), m);
    rollBackOnAbort(m);
    startReads(shape, m);
    GateMeters.bind(m.meters(), m::waitingReason, m::paused, guards == null ? null : guards.health(), config.health().sensors());
    return m;
  }

  private JsonObject agentStatus() {
    return new JsonObject().put("id", config.agent().id()).put("version", VERSION).put("config", configStatus());
  }

  /**
   * Renews this agent's leases, publishes its figures, and gives each job's pacer its share of the
   * rate budget. One heartbeat at a time: a slow ledger must not pile them up.
   */
  private Future<Void> heartbeat() {
    beating = true;
    beatStartedNanos = System.nanoTime();
    // This agent's own health verdict (never the combined one, or verdicts would echo between agents).
    // A throttle is published only once the sensors have been healthy: "sensors starting" on an agent
    // that joins must not stall the others.
    Throttler.Decision health = guards == null ? null : guards.health().decision();
    if (health != null && !health.throttled()) healthSettled = true;
    boolean throttled = health != null && healthSettled && health.throttled();
    List<Roster.JobFigures> figures = new ArrayList<>();
    for (Migrator m : migrators.values()) {
      figures.add(new Roster.JobFigures(m.name(), m.stats().rows(), m.stats().rowsPerSecond(), m.budget().shareRowsPerSecond(),
          throttled, throttled ? health.reason() : null, health == null ? 1.0 : health.rateFactor()));
    }
    return ledger.roster().heartbeat(config.agent().lease(), figures)
        .onSuccess(beat -> {
          for (HeldLeases.Lease l : beat.lost()) {
            log.warn("job {} segment {}: lease (epoch {}) not renewed: it expired or another agent took it over", l.job(), l.seq(), l.epoch());
          }
          beat.jobs().forEach((job, view) -> {
            Migrator m = migrators.get(job);
            if (m == null) return;
            int n = view.sharing();
            if (m.budget().agents() != n && m.budget().rowsPerSecond() != null) {
              log.info("job {}: {} agent(s) share the budget of {} rows/s; this agent's share is {} rows/s", job, n,
                  m.budget().rowsPerSecond(), Math.round(m.budget().rowsPerSecond() / n));
            }
            m.fleetView(view);
          });
        })
        .onFailure(e -> log.warn("heartbeat failed (leases not renewed): {}", ErrorClassifier.describe(e)))
        .eventually(() -> {
          beating = false;
          return Future.succeededFuture();
        })
        .mapEmpty();
  }

  /** The job's read path: its own small pools, so reads never queue behind the copy's connections. */
  private void startReads(JobShape shape, Migrator m) {
    if (readSource == null) {
      readSource = Databases.readPool(vertx, config.source(), "sluice-reads", READ_POOL_SIZE);
      readTarget = Databases.readPool(vertx, config.target(), "sluice-reads", READ_POOL_SIZE);
    }
    // With change capture, only the agent whose applier writes the job's changes hears of them, so
    // only that agent may serve from its cache; without capture, or once the job is completed (the
    // appliers have stopped), Sluice no longer changes the target.
    ChangeApplier applier = m.catchUp() == null || !shape.job().capture().enabled() ? null : m.catchUp().applier();
    BooleanSupplier hearsChanges = applier == null ? () -> true
        : () -> applier.backlog().leader() || m.state() == JobState.COMPLETED;
    JobReads r = new JobReads(vertx, shape, readSource, readTarget, ledger, hearsChanges,
        m::waitingReason,
        metrics.registry());
    m.addSegmentListener(seg -> r.segmentVerified());
    if (r.cache() != null) m.meters().cache(r.cache().caffeine());
    if (applier != null) {
      applier.addListener((job, keys) -> {
        r.writing(keys);
        return Future.succeededFuture();
      });
    }
    reads.put(shape.job().name(), r);
    // No HTTP server, no readers: warming would only load the target for nothing.
    if (config.http().enabled()) r.start();
  }

  /** A job's change capture, applier and final verification, sharing the job's pacer. */
  private CatchUp catchUp(JobShape shape, Migrator m) {
    ConsistencyLedger facts = new ConsistencyLedger(ledgerPool, config.agent().id());
    ChangeApplier applier = new ChangeApplier(vertx, shape, source, () -> Databases.connect(vertx, config.source(), "sluice-applier"), facts,
        target, m.pacer());
    FinalVerification verification = new FinalVerification(shape, source, target, facts, applier, m.pacer(), m::pauseForDrift);
    DriftMonitor drift = new DriftMonitor(vertx, shape, source, target, m::pauseForDrift, m::paused);
    return new CatchUp(vertx, shape, source, target, ledger, applier, verification, drift);
  }

  /**
   * Rolls a job back from inside the agent (abort rules call this): the job's migrator stops as soon
   * as it sees the ledger say rolling back. Refused when the target held rows before the job started.
   */
  public Future<Rollback.Outcome> rollback(String job, String reason) {
    Double rate = config.job(job).map(j -> j.rollback().rowsPerSecond()).orElse(null);
    return new Rollback(vertx, source, target, config.agent().id()).run(job, reason, rate, false);
  }

  /** With {@code rollback.onAbort}, a job aborted by its error budget is rolled back. */
  private void rollBackOnAbort(Migrator m) {
    m.onAbort(reason -> {
      if (!m.config().rollback().onAbort()) return;
      log.warn("job {}: rolling back (rollback.onAbort): {}", m.name(), reason);
      rollback(m.name(), "aborted: " + reason)
          .onFailure(e -> log.error("job {}: rollback after abort failed: {}", m.name(), ErrorClassifier.describe(e)));
    });
  }

  /** Completes when every job is finished; maps job name to its final state. */
  public Future<Map<String, JobState>> untilDone() {
    // Jobs with change capture complete once in sync and verified instead of applying forever.
    for (Migrator m : migrators.values()) if (m.catchUp() != null) m.catchUp().completeWhenInSync();
    List<Future<JobState>> all = migrators.values().stream().map(Migrator::finished).toList();
    return Future.join(all).transform(ar -> {
      Map<String, JobState> out = new LinkedHashMap<>();
      for (Migrator m : migrators.values()) out.put(m.name(), m.state());
      return Future.succeededFuture(out);
    });
  }

  /** Stops cleanly: workers stop after their batch, leases are handed back, connections closed. */
  public Future<Void> stop() {
    if (stopped) return Future.succeededFuture();
    stopped = true;
    if (heartbeatTimer >= 0) vertx.cancelTimer(heartbeatTimer);
    reads.values().forEach(JobReads::stop);
    if (liveView != null) liveView.stop();
    if (watcher != null) watcher.stop();
    List<Future<Void>> stops = migrators.values().stream().map(Migrator::stop).toList();
    Future<Void> drained = Future.join(stops).mapEmpty();
    return drained.transform(x -> vertx.timer(1).mapEmpty())
        .transform(x -> ledger == null ? Future.succeededFuture() : ledger.roster().releaseAll("agent stopping").otherwiseEmpty())
        .transform(x -> http == null ? Future.succeededFuture() : http.stop().otherwiseEmpty())
        .transform(x -> stopGuards())
        .transform(x -> closeAll())
        .transform(x -> ownsVertx ? vertx.close() : Future.succeededFuture())
        .onComplete(x -> metrics.close())
        .onComplete(x -> log.info("agent {} stopped", config.agent().id()))
        .mapEmpty();
  }

  private Future<Void> stopGuards() {
    if (guards == null) return Future.succeededFuture();
    guards.source().stop();
    guards.target().stop();
    return guards.health().stop();
  }

  /** The health sensors and circuit breakers (null before start). */
  public Guards guards() {
    return guards;
  }

  private Future<Void> closeAll() {
    List<Future<Void>> closes = new ArrayList<>();
    for (Pool p : new Pool[] {source, target, ledgerPool, readSource, readTarget}) if (p != null) closes.add(p.close().otherwiseEmpty());
    return Future.join(closes).mapEmpty();
  }
}
