package dev.sluice.metrics;

import com.github.benmanes.caffeine.cache.Cache;
import dev.sluice.capture.ChangeApplier;
import dev.sluice.capture.WalFigures;
import dev.sluice.job.JobEvents;
import dev.sluice.job.JobStats;
import dev.sluice.job.LiveFigures;
import dev.sluice.resilience.ErrorClass;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One job's meters, all tagged {@code sluice_job=<name>} (not {@code job}: Prometheus renames a scraped
 * {@code job} label to {@code exported_job}, since {@code job} is its own scrape job's), and the
 * registration API for features that report into them (sensors, change backlog, cache, throttle
 * decisions). The live gauges (rate limit, concurrency limit, paused) read the job's {@link LiveFigures},
 * the same figures {@code /api/jobs} and the dashboard show. What nobody registered is not exported: a
 * missing sensor is absent from {@code /metrics}, never a fake zero. docs/observability.md lists every
 * meter. Thread-safe: called from every event loop.
 */
public final class JobMeters implements JobEvents {
  /** One health sensor's latest reading, as the throttler stored it. */
  /** {@code successAgeSeconds}: since the last successful read (since the sensor started, before one). */
  public record SensorReading(double value, Double threshold, String unit, double ageSeconds, double successAgeSeconds, boolean healthy) {}

  /**
   * Captured changes not yet applied to the target ({@code rows} negative: not measured yet); why the
   * applier last failed on this agent (null if never), and whether its latest batch failed.
   */
  /** {@code applied}: keys this agent's applier applied since it started; {@code appliedPerSecond} over the latest second (NaN before one). */
  public record Backlog(long rows, double oldestAgeSeconds, String lastError, boolean failing, long applied, double appliedPerSecond) {}

  /** The throttle decision in force: a short code for the metric label, and the sentence for people. */
  public record Throttle(boolean throttled, String code, String reason) {
    static final Throttle NONE = new Throttle(false, "none", null);
  }

  /** The reasons of {@code sluice_throttled} the agent gives (see {@link GateMeters}), plus {@code none}. */
  static final List<String> THROTTLE_REASONS = List.of("none", "paused", "drift", "slot", "health", "lock", "gate");

  /** The label naming the job on every Sluice series. */
  public static final String JOB_LABEL = "sluice_job";

  private static final Duration[] LATENCY_BUCKETS = {
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30)};

  private final MeterRegistry registry;
  private final String job;
  private final Tags tags;
  private final JobStats stats;
  private final Timer batchLatency;
  private final Map<ErrorClass, Counter> errors = new EnumMap<>(ErrorClass.class);
  private final Map<String, double[]> throttleSeries = new ConcurrentHashMap<>();
  private final Map<String, Supplier<SensorReading>> sensors = new ConcurrentSkipListMap<>();
  private volatile Throttle throttle = Throttle.NONE;
  private volatile Supplier<Throttle> throttleSource;
  private final Supplier<LiveFigures> live;
  private volatile boolean backlogReported;
  private final RateMeter appliedRate = new RateMeter(System::nanoTime, 1_000_000_000L);
  private volatile Cache<?, ?> cache;
  private volatile JobFigures figures = JobFigures.NONE;

  /** {@code live}: the job's live figures on this agent ({@code Migrator::live}). */
  public JobMeters(MeterRegistry registry, String job, JobStats stats, Supplier<LiveFigures> live) {
    this.registry = registry;
    this.job = job;
    this.tags = Tags.of(JOB_LABEL, job);
    this.stats = stats;
    this.live = live;
    FunctionCounter.builder("sluice.rows.copied", stats, JobStats::rows)
        .description("Rows written to the target by this agent").tags(tags).register(registry);
    Gauge.builder("sluice.rows.per.second", stats, JobStats::rowsPerSecond)
        .description("Rows written per second by this agent, over the last 10 s").tags(tags).strongReference(true).register(registry);
    FunctionCounter.builder("sluice.retries", stats, JobStats::retries)
        .description("Transient errors retried").tags(tags).register(registry);
    Gauge.builder("sluice.segments.in.flight", stats, s -> s.inFlight().get())
        .description("Segments this agent is copying or verifying now").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.rate.limit.rows.per.second", this, m -> m.live().rateLimit() == null ? Double.NaN : m.live().rateLimit())
        .description("Rate budget in force (rows/s); NaN when unpaced").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.concurrency.limit", this, m -> m.live().concurrencyLimit())
        .description("Segments allowed in flight at once on this agent").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.paused", this, m -> m.live().paused() ? 1 : 0)
        .description("1 while the job is paused, by an operator or by Sluice (drift); who and why: GET /api/jobs").tags(tags).strongReference(true).register(registry);
    batchLatency = Timer.builder("sluice.batch.latency")
        .description("Time to write one batch to the target (server-side copies: one segment)")
        .serviceLevelObjectives(LATENCY_BUCKETS).minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
        .tags(tags).register(registry);
    for (ErrorClass c : ErrorClass.values()) {
      errors.put(c, Counter.builder("sluice.errors").description("Errors met while copying, by class")
          .tags(tags.and("class", c.name().toLowerCase(Locale.ROOT))).register(registry));
    }
    for (String state : JobFigures.SEGMENT_STATES) {
      Gauge.builder("sluice.segments", this, m -> m.figures.segments(state))
          .description("Segments of the job by state, from the ledger (all agents)").tags(tags.and("state", state)).strongReference(true).register(registry);
    }
    Gauge.builder("sluice.job.rows.planned", this, m -> m.figures.rowsPlanned())
        .description("Rows the plan expects, from the ledger").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.job.rows.done", this, m -> m.figures.rowsDone())
        .description("Rows in copied or verified segments, from the ledger (all agents)").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.eta.seconds", this, m -> m.figures.eta().seconds())
        .description("Estimated seconds until every segment is copied; NaN when unknown").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.eta.low.seconds", this, m -> m.figures.eta().low())
        .description("Optimistic end of the ETA range").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.eta.high.seconds", this, m -> m.figures.eta().high())
        .description("Pessimistic end of the ETA range").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.job.finish.timestamp.seconds", this, m -> m.figures.finishSeconds("at"))
        .description("When the job should finish copying (Unix time), given its windows and the rate it achieves at each hour of the "
            + "week; NaN when unknown").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.job.finish.earliest.timestamp.seconds", this, m -> m.figures.finishSeconds("earliest"))
        .description("Earliest end of the finish date's range (each hour's fastest rate)").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.job.finish.latest.timestamp.seconds", this, m -> m.figures.finishSeconds("latest"))
        .description("Latest end of the finish date's range (each hour's slowest rate)").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.job.finish.trend.seconds", this, m -> m.figures.finishTrendSeconds())
        .description("How far the finish date moved since the estimate an hour ago (or, in the first hour, the oldest at least 5 min "
            + "old): seconds later, negative when earlier; NaN until there is a trend").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.job.window.closed", this, m -> m.figures.finish() != null && m.figures.finish().noEarlierThan() != null ? 1 : 0)
        .description("1 while the job's schedule window is closed (it finishes no earlier than the next opening)").tags(tags)
        .strongReference(true).register(registry);
    // Every reason the agent itself gives exists from the start (at 0), so a query or an alert on one
    // finds a series rather than nothing; a feature's own code gets its series on first use.
    for (String code : THROTTLE_REASONS) throttleCell(code);
    throttle(Throttle.NONE);
  }

  public String job() {
    return job;
  }

  /** The job's live figures on this agent, read now. */
  public LiveFigures live() {
    return live.get();
  }

  /** The job's figures on this agent (the dashboard drains the batch latencies once a second). */
  public JobStats stats() {
    return stats;
  }

  /** For binders of other libraries: the registry and this job's tags. */
  public MeterRegistry registry() {
    return registry;
  }

  public Tags tags() {
    return tags;
  }

  // ---- recorded by the engine ----

  /** One batch (or one server-side segment copy) written in {@code nanos}. */
  @Override
  public void batchWritten(long rows, long nanos) {
    batchLatency.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void error(ErrorClass cls) {
    errors.get(cls).increment();
  }

  // ---- registration API for features built elsewhere ----

  /**
   * The throttle decision changed. {@code code} becomes the {@code reason} label of
   * {@code sluice_throttled} (keep it a short, stable word such as {@code replication_lag}); the
   * reason sentence goes to the dashboard.
   */
  public void throttle(Throttle t) {
    throttle = t == null ? Throttle.NONE : t;
    String code = t == null || !t.throttled() ? "none" : t.code();
    throttleCell(code);
    throttleSeries.forEach((c, cell) -> cell[0] = (throttle.throttled() && c.equals(code)) ? 1 : 0);
  }

  private void throttleCell(String code) {
    throttleSeries.computeIfAbsent(code, c -> {
      double[] cell = new double[1];
      Gauge.builder("sluice.throttled", cell, x -> x[0]).description("1 while the job is throttled, labelled with the reason")
          .tags(tags.and("reason", c)).strongReference(true).register(registry);
      return cell;
    });
  }

  /**
   * Alternatively, a source of the decision in force, read at least once a second (by the live
   * view) and on every scrape of the dashboard; each change updates {@code sluice_throttled}.
   */
  public void throttleSource(Supplier<Throttle> source) {
    this.throttleSource = source;
  }

  public Throttle throttle() {
    Supplier<Throttle> source = throttleSource;
    if (source != null) {
      Throttle now = source.get();
      if (now == null) now = Throttle.NONE;
      if (!now.equals(throttle)) throttle(now);
    }
    return throttle;
  }

  /**
   * Registers a health sensor: its reading goes to the gauge of its kind, in base units
   * ({@code sluice_sensor_probe_seconds{database="source"}}, see {@link SensorMetric}); its age and health
   * to {@code sluice_sensor_age_seconds} and {@code sluice_sensor_healthy}, and the age of its last successful
   * reading to {@code sluice_sensor_last_success_age_seconds} (a failed read is a fresh reading, not a
   * success), labelled with the sensor's id.
   * The dashboard gets the reading as the sensor reports it (with its unit).
   */
  public void sensor(String name, SensorMetric metric, String database, Supplier<SensorReading> reading) {
    if (sensors.putIfAbsent(name, reading) != null) return;
    Tags kind = tags.and("database", database);
    Gauge.builder(metric.valueName(), reading, r -> metric.toBase(r.get().value())).description(metric.description())
        .tags(kind).strongReference(true).register(registry);
    Gauge.builder(metric.thresholdName(), reading, r -> r.get().threshold() == null ? Double.NaN : metric.toBase(r.get().threshold()))
        .description(metric.thresholdDescription())
        .tags(kind).strongReference(true).register(registry);
    Tags t = tags.and("sensor", name);
    Gauge.builder("sluice.sensor.age.seconds", reading, r -> r.get().ageSeconds()).description("Age of the sensor's latest reading")
        .tags(t).strongReference(true).register(registry);
    Gauge.builder("sluice.sensor.last.success.age.seconds", reading, r -> r.get().successAgeSeconds())
        .description("Age of the sensor's latest successful reading (since the sensor started, before one)")
        .tags(t).strongReference(true).register(registry);
    Gauge.builder("sluice.sensor.healthy", reading, r -> r.get().healthy() ? 1 : 0).description("1 while the sensor is healthy")
        .tags(t).strongReference(true).register(registry);
  }

  public Map<String, Supplier<SensorReading>> sensors() {
    return sensors;
  }

  /** Exports the change applier's backlog (from the live figures); call once capture is attached. */
  public void reportBacklog() {
    if (backlogReported) return;
    backlogReported = true;
    Gauge.builder("sluice.change.backlog.rows", this, m -> m.backlog() == null || m.backlog().rows() < 0 ? Double.NaN : m.backlog().rows())
        .description("Captured changes not yet applied to the target").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.change.backlog.age.seconds", this, m -> m.backlog() == null ? Double.NaN : m.backlog().oldestAgeSeconds())
        .description("Age of the oldest change not yet applied").tags(tags).strongReference(true).register(registry);
    FunctionCounter.builder("sluice.changes.applied", this, m -> m.backlog() == null ? 0 : m.backlog().applied())
        .description("Captured keys this agent's change applier applied to the target (both capture modes); rate() is its keys/s")
        .tags(tags).register(registry);
    Gauge.builder("sluice.capture.applied.keys.per.second", this, m -> m.backlog() == null ? Double.NaN : m.backlog().appliedPerSecond())
        .description("Captured keys applied to the target per second by this agent's change applier, over the latest second (NaN on "
            + "an agent whose applier has not run)").tags(tags).strongReference(true).register(registry);
  }

  /**
   * Exports logical capture's figures (from the live figures): keys read from the WAL per second, its
   * lag, the WAL its slot retains; NaN on an agent that does not read the slot, and in trigger mode.
   */
  public void walCapture() {
    Gauge.builder("sluice.capture.wal.keys.per.second", this, m -> m.wal(WalFigures::keysPerSecond))
        .description("Keys read from the WAL and recorded per second (on the agent that reads the job's slot)").tags(tags)
        .strongReference(true).register(registry);
    Gauge.builder("sluice.capture.wal.lag.seconds", this, m -> m.wal(WalFigures::lagSeconds))
        .description("How far the WAL reader is behind the source's commits").tags(tags).strongReference(true).register(registry);
    Gauge.builder("sluice.capture.slot.retained.bytes", this, m -> m.wal(w -> w.retainedBytes() == null ? Double.NaN : w.retainedBytes()))
        .description("WAL retained on the source by the job's replication slot").tags(tags).strongReference(true).register(registry);
  }

  private double wal(java.util.function.ToDoubleFunction<WalFigures> figure) {
    WalFigures w = live().wal();
    return w == null || !w.readHere() ? Double.NaN : figure.applyAsDouble(w);
  }

  /** Captured changes not yet applied ({@code rows} negative: not measured yet), or null without capture. */
  public Backlog backlog() {
    ChangeApplier.Backlog b = backlogReported ? live().backlog() : null;
    return b == null ? null : new Backlog(Math.max(0, b.rows()), b.oldestAgeMs() / 1000.0, b.lastError(), b.failing(), b.applied(),
        appliedRate.perSecond(b.applied()));
  }

  /** Registers the job's row cache (build it with {@code recordStats()}): hits, misses, evictions, size. */
  public void cache(Cache<?, ?> c) {
    if (cache != null) return;
    cache = c;
    CaffeineCacheMetrics.monitor(registry, c, "sluice.cache", tags);
  }

  public Cache<?, ?> cache() {
    return cache;
  }

  // ---- fed by LiveView from the ledger ----

  void figures(JobFigures f) {
    figures = f;
  }

  public JobFigures figures() {
    return figures;
  }

  /** Names of registered optional features, for the dashboard's "not available" notes. */
  public List<String> features() {
    List<String> out = new ArrayList<>();
    if (!sensors.isEmpty()) out.add("sensors");
    if (backlogReported) out.add("backlog");
    if (cache != null) out.add("cache");
    return out;
  }

  /** Batch latency so far, for tests and the dashboard: count and mean in milliseconds. */
  public Timer batchLatency() {
    return batchLatency;
  }
}
