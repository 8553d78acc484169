package dev.sluice.agent;

import dev.sluice.cache.JobReads;
import dev.sluice.command.OperatorCommands;
import dev.sluice.capture.WatchedPool;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigWatcher;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.BackendPriority;
import dev.sluice.health.HealthMonitor;
import dev.sluice.http.ControlServer;
import dev.sluice.inspect.JobShape;
import dev.sluice.job.Guards;
import dev.sluice.job.Migrator;
import dev.sluice.job.Replanner;
import dev.sluice.ledger.ConfigVersions;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.SegmentReplan;
import dev.sluice.metrics.AgentMeters;
import dev.sluice.metrics.LiveView;
import dev.sluice.metrics.Metrics;
import dev.sluice.resilience.DatabaseBreaker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: the only place that creates the agent's collaborators. Validates the config
 * against the databases, brings the ledger schema up to date, registers this agent, starts each job
 * ({@link JobWiring}), the {@link Heartbeat}, the config's hot {@link Reload}, the live view and the
 * HTTP server; stops them in the reverse order. Time comes from one wall {@link Clock} and one
 * monotonic clock, handed to the parts that need them.
 */
public final class Agent {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  public static final String VERSION = dev.sluice.build.BuildInfo.CURRENT.version() + "+" + dev.sluice.build.BuildInfo.CURRENT.commit(); // roster

  // Replaced by a config reload (jobs and health settings only: the rest needs a restart, see ConfigDiff).
  private volatile SluiceConfig config;
  private Path configFile;
  private String host;
  private volatile ConfigWatcher watcher;
  private final Vertx vertx;
  private final boolean ownsVertx;
  private final Metrics metrics;
  private final Clock clock = Clock.systemUTC();
  private Clock outlookClock = clock;
  private final LongSupplier nanos = System::nanoTime;
  private JobWiring.Pools pools;
  private Ledger ledger;
  private Guards guards;
  private JobWiring jobs;
  private Heartbeat heartbeat;
  private LiveView liveView;
  private OutlookWiring outlook;
  private ControlServer http;
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

  /**
   * The wall clock of the outlook only (finish dates and their trend, the learned week, milestones,
   * advice); the rest of the agent keeps the system clock. Call before start. Tests use it to let
   * the minutes a finish trend needs pass.
   */
  public Agent outlookClock(Clock c) {
    this.outlookClock = c;
    return this;
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

  public Vertx vertx() {
    return vertx;
  }

  public SluiceConfig config() {
    return config;
  }

  public Ledger ledger() {
    return ledger;
  }

  /** The jobs running on this agent, by name. */
  public Map<String, Migrator> migrators() {
    return jobs == null ? Map.of() : jobs.migrators();
  }

  /** Each job's read path (cache, rollout, router), by job name. */
  public Map<String, JobReads> reads() {
    return jobs == null ? Map.of() : jobs.reads();
  }

  /** The health sensors and circuit breakers (null before start). */
  public Guards guards() {
    return guards;
  }

  /** Port the HTTP server listens on (useful when configured as 0), or -1 when disabled. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  public Future<Void> start() {
    // The checks and the host name lookup (DNS) may block: on a worker, never on an event loop.
    return vertx.executeBlocking(() -> {
      host = ConfigLoader.hostName();
      dev.sluice.http.PortCheck.free(config.http());
      BackendPriority.lowerAgent(config.sessions().nice());
      return Validation.check(vertx, config);
    }, false).compose(this::startWith);
  }

  private Future<Void> startWith(List<JobShape> shapes) {
    int workers = config.jobs().stream().mapToInt(j -> j.concurrencyMax()).sum();
    // The shared pools: a statement with no answer for statementTimeoutMs + stallTimeoutMs fails (WatchedPool.shared).
    String shared = "copying, planning or setting up capture";
    pools = new JobWiring.Pools(
        WatchedPool.shared(vertx, config.source(), "sluice-source", "source", Math.max(config.source().poolSize(), workers + 3),
            config.sessions()).timedPool(shared),
        WatchedPool.shared(vertx, config.target(), "sluice-target", "target", Math.max(config.target().poolSize(), workers + 2),
            config.sessions()).timedPool(shared),
        // Every ledger statement timed by sessions.stallTimeoutMs (WatchedPool): none waits for ever on a silent target.
        WatchedPool.open(vertx, config.target(), "ledger", "sluice-ledger", "target", 4, config.sessions())
            .timedPool("reading or writing the ledger"));
    guards = newGuards();
    AgentMeters.bind(metrics.registry(), guards.source()::state, guards.target()::state, () -> watcher);
    ledger = new Ledger(pools.ledger(), config.agent().id());
    jobs = new JobWiring(vertx, () -> config, pools, ledger, guards, metrics, clock, nanos);
    heartbeat = new Heartbeat(vertx, ledger, config.agent(), guards.health(), jobs.migrators(), nanos);
    return LedgerSchema.ensure(pools.ledger())
        .compose(v -> ledger.roster().register(host, ProcessHandle.current().pid(), VERSION, config.agent().lease(),
            config.agent().heartbeat()))
        .compose(v -> {
          for (int i = 0; i < shapes.size(); i++) jobs.add(shapes.get(i), i);
          // A first heartbeat before any worker starts: an agent joining a running job takes its share
          // of the rate budget from its first batch, not one heartbeat later.
          return heartbeat.beat().otherwiseEmpty();
        })
        .compose(v -> {
          heartbeat.start();
          return Future.all(jobs.migrators().values().stream().map(Migrator::start).toList()).mapEmpty();
        })
        .compose(v -> {
          if (configFile == null) return Future.succeededFuture();
          Replanner replanner = new Replanner(pools.source(), new SegmentReplan(pools.ledger(), config.agent().id()));
          watcher = new ConfigWatcher(vertx, configFile, new ConfigVersions(pools.ledger(), config.agent().id()),
              new Reload(vertx, () -> config, next -> config = next, guards.health(), jobs, replanner));
          return watcher.start();
        })
        .compose(v -> {
          liveView = new LiveView(vertx, pools.ledger(), jobs::meters, this::agentStatus, clock, nanos);
          outlook = new OutlookWiring(vertx, () -> config, pools.ledger(), pools.source(), guards.health(), outlookClock, nanos);
          outlook.start(liveView);
          return liveView.start();
        })
        .compose(v -> {
          if (!config.http().enabled()) return Future.succeededFuture();
          http = new ControlServer(vertx, config, controlParts());
          return http.start();
        })
        .onSuccess(v -> log.info("agent {} started: {} job(s), source {}, target {}{}", config.agent().id(), jobs.migrators().size(),
            config.source().redacted(), config.target().redacted(),
            http == null ? "" : ", http://" + config.http().host() + ":" + http.port() + "/"))
        .mapEmpty();
  }

  /** What the HTTP server shows and drives: never the agent itself. */
  public ControlServer.Parts controlParts() {
    OperatorCommands commands = OperatorCommands.onAgent(vertx, ledger, jobs.migrators()::get, jobs::rollback);
    return new ControlServer.Parts(ledger, jobs::migrators, jobs::reads, liveView, metrics::scrape, this::configStatus, commands, outlook);
  }

  /** The health sensors and each database's circuit breaker; a sensor's connection errors feed its database's breaker. */
  private Guards newGuards() {
    Guards g = new Guards(new HealthMonitor(vertx, config.health(), config.source(), config.target(), nanos),
        new DatabaseBreaker(vertx, "source", config.source(), config.breaker(), config.sessions().stallTimeout(), nanos),
        new DatabaseBreaker(vertx, "target", config.target(), config.breaker(), config.sessions().stallTimeout(), nanos));
    g.health().listen((db, error) -> {
      DatabaseBreaker b = db.equals("source") ? g.source() : g.target();
      if (error == null) b.success();
      else b.failure(error);
    });
    g.health().start();
    g.source().start();
    g.target().start();
    return g;
  }

  private JsonObject agentStatus() {
    return new JsonObject().put("id", config.agent().id()).put("version", VERSION).put("config", configStatus());
  }

  /** Completes when every job is finished; maps job name to its final state. */
  public Future<Map<String, JobState>> untilDone() {
    // Jobs with change capture complete once in sync and verified instead of applying forever.
    for (Migrator m : migrators().values()) if (m.catchUp() != null) m.catchUp().completeWhenInSync();
    List<Future<JobState>> all = migrators().values().stream().map(Migrator::finished).toList();
    return Future.join(all).transform(ar -> {
      Map<String, JobState> out = new LinkedHashMap<>();
      for (Migrator m : migrators().values()) out.put(m.name(), m.state());
      return Future.succeededFuture(out);
    });
  }

  /** Stops cleanly: workers stop after their batch, leases are handed back, connections closed. */
  public Future<Void> stop() {
    if (stopped) return Future.succeededFuture();
    stopped = true;
    if (heartbeat != null) heartbeat.stop();
    if (jobs != null) jobs.stopReads();
    if (jobs != null) jobs.stopRanking();
    if (watcher != null) watcher.stop();
    // One last tick, so a job that ended just now still gets its milestone and its final report.
    Future<Void> lastTick = liveView == null ? Future.succeededFuture() : liveView.stopAfterLastTick();
    List<Future<Void>> stops = migrators().values().stream().map(Migrator::stop).toList();
    Future<Void> drained = Future.join(Future.join(stops), lastTick).mapEmpty();
    return drained.transform(x -> vertx.timer(1).mapEmpty())
        .transform(x -> outlook == null ? Future.succeededFuture() : outlook.stop())
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

  private Future<Void> closeAll() {
    List<Pool> all = new ArrayList<>();
    if (pools != null) all.addAll(List.of(pools.source(), pools.target(), pools.ledger()));
    if (jobs != null) all.addAll(jobs.readPools());
    List<Future<Void>> closes = new ArrayList<>();
    for (Pool p : all) if (p != null) closes.add(p.close().otherwiseEmpty());
    if (jobs != null) closes.add(jobs.closeWatchedPools());
    return Future.join(closes).mapEmpty();
  }
}
