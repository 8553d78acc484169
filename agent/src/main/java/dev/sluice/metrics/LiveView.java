package dev.sluice.metrics;

import dev.sluice.ledger.LiveReads;
import dev.sluice.traffic.FinishForecast;
import dev.sluice.traffic.FinishWatch;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live picture of every job, read from the ledger once a second and whenever a new audit event
 * appears (checked every {@value #FAST_MS} ms while a dashboard is connected), merged with this
 * agent's own figures. It feeds the job meters (segments by state, ETA) and pushes one encoded
 * snapshot to every listener (the WebSocket clients), so N dashboards cost the ledger nothing extra.
 * It keeps ten minutes of per-second history so a dashboard opened late still draws its charts.
 */
public final class LiveView {
  private static final Logger log = LoggerFactory.getLogger(LiveView.class);
  static final long FAST_MS = 250;
  private static final int HISTORY = 600;
  private static final int RECENT_EVENTS = 300;

  private final Vertx vertx;
  private final Clock clock;
  private final LongSupplier nanos;
  private final Pool db;
  private final Supplier<Map<String, JobMeters>> jobs;
  private final Supplier<JsonObject> agentStatus;
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Eta> etas = new ConcurrentHashMap<>();
  private final Map<String, Deque<JsonArray>> history = new ConcurrentHashMap<>();
  private final Map<String, Long> mismatches = new ConcurrentHashMap<>();
  private final Deque<JsonObject> recentEvents = new ArrayDeque<>();
  private final SnapshotAssembler assembler = new SnapshotAssembler();
  private long lastEventId = -1;
  private long lastFullTick;
  private boolean busy;
  private long fastTimer = -1;
  private volatile String latest;
  private volatile Outlook outlook = Outlook.NONE;
  private final Map<String, JsonObject> finishes = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  /** {@code jobs}: the meters of the jobs running on this agent, by name (their live figures come with them). */
  public LiveView(Vertx vertx, Pool db, Supplier<Map<String, JobMeters>> jobs, Supplier<JsonObject> agentStatus, Clock clock,
      LongSupplier nanos) {
    this.clock = clock;
    this.nanos = nanos;
    this.vertx = vertx;
    this.db = db;
    this.jobs = jobs;
    this.agentStatus = agentStatus;
  }

  /**
   * What the agent adds to each tick (a port: the agent's planning parts implement it): each job's
   * finish date, worked out from the ledger's figures and the last minute's rate; and the tick's
   * figures and new audit events, which the milestones and final reports follow.
   */
  public interface Outlook {
    Outlook NONE = new Outlook() {
      @Override
      public FinishWatch.Finish finish(JsonObject summary, JobMeters local, FinishForecast.Rates recent) {
        return null;
      }

      @Override
      public void ticked(JsonArray summary, JsonArray newEvents, Map<String, JobMeters> local) {}
    };

    /** The job's finish date this second ({@code local}: its meters on this agent, or null; {@code recent}: null while unknown). */
    FinishWatch.Finish finish(JsonObject summary, JobMeters local, FinishForecast.Rates recent);

    void ticked(JsonArray summary, JsonArray newEvents, Map<String, JobMeters> local);
  }

  /** Sets the planning parts that hear each tick. Call before start. */
  public void outlook(Outlook o) {
    this.outlook = o;
  }

  /** A job's latest finish date as {@code /api/jobs} shows it, or null before one was worked out. */
  public JsonObject finish(String job) {
    return finishes.get(job);
  }

  /** Starts ticking: the events backlog and mismatch counts are read first, then a tick every second. */
  public Future<Void> start() {
    return LiveReads.lastEventId(db)
        .compose(max -> LiveReads.events(db, null, Math.max(0, max - RECENT_EVENTS), RECENT_EVENTS).map(arr -> {
          synchronized (recentEvents) {
            for (int i = 0; i < arr.size(); i++) recentEvents.addLast(arr.getJsonObject(i));
          }
          lastEventId = max;
          return null;
        }))
        .compose(v -> LiveReads.mismatches(db))
        .map(m -> {
          mismatches.putAll(m);
          fastTimer = vertx.setPeriodic(FAST_MS, t -> poll());
          poll();
          return null;
        });
  }

  public void stop() {
    stopped = true;
    if (fastTimer >= 0) vertx.cancelTimer(fastTimer);
  }

  /** Receives every snapshot (already JSON-encoded); returns a handle that removes the listener. */
  public Runnable listen(Consumer<String> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** The latest snapshot, encoded; null before the first tick. */
  public String latest() {
    return latest;
  }

  /** What a newly connected dashboard needs first: the history of each job and recent events. */
  public JsonObject hello() {
    JsonObject hist = new JsonObject();
    history.forEach((job, d) -> {
      synchronized (d) {
        hist.put(job, new JsonArray(List.copyOf(d)));
      }
    });
    JsonArray events;
    synchronized (recentEvents) {
      events = new JsonArray(List.copyOf(recentEvents));
    }
    return new JsonObject().put("type", "hello").put("history", hist).put("events", events)
        .put("historyColumns", new JsonArray(List.of("t", "rowsPerSecond", "jobRowsPerSecond", "latencyP50Ms", "latencyP95Ms", "rateLimit")));
  }

  /** Runs a tick now (after an operator action), so the dashboard shows the result at once. */
  public void refresh() {
    vertx.runOnContext(v -> tick(false));
  }

  private void poll() {
    if (stopped || busy) return;
    long now = clock.millis();
    if (now - lastFullTick >= 1000) {
      tick(true);
    } else if (!listeners.isEmpty()) {
      LiveReads.lastEventId(db).onSuccess(max -> {
        if (max > lastEventId) tick(false);
      });
    }
  }

  private Future<Void> tick(boolean regular) {
    if (busy || stopped) return Future.succeededFuture();
    busy = true;
    if (regular) lastFullTick = clock.millis();
    Future<JsonArray> summary = Ledger.summary(db);
    Future<Map<String, LiveReads.Heatmap>> heat = LiveReads.heatmaps(db);
    Future<Map<String, JsonArray>> failed = LiveReads.failed(db, 50);
    Future<JsonArray> agents = Roster.agents(db);
    Future<JsonArray> events = LiveReads.events(db, null, Math.max(lastEventId, 0), 500);
    return Future.all(summary, heat, failed, agents, events)
        .onSuccess(all -> publish(regular, summary.result(), heat.result(), failed.result(), agents.result(), events.result()))
        .onFailure(e -> {
          String why = "ledger unreachable: " + ErrorClassifier.describe(e);
          log.debug("live view: {}", why);
          broadcast(new JsonObject().put("type", "snapshot").put("at", clock.millis()).put("ledgerError", why)
              .put("agent", agentStatus.get()).encode());
        })
        .onComplete(x -> busy = false)
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }

  /**
   * Stops after one last tick, so what happened just before (a job completing as the agent stops)
   * still reaches the {@link Outlook}: its milestone, its final report.
   */
  public Future<Void> stopAfterLastTick() {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    vertx.runOnContext(v -> lastTick(done, 40));
    return done.future().onComplete(x -> stop());
  }

  private void lastTick(io.vertx.core.Promise<Void> done, int tries) {
    if (stopped) {
      done.complete();
    } else if (busy && tries > 0) {
      vertx.setTimer(50, t -> lastTick(done, tries - 1));
    } else {
      busy = false;
      tick(false).onComplete(x -> done.complete());
    }
  }

  private void publish(boolean regular, JsonArray summary, Map<String, LiveReads.Heatmap> heat, Map<String, JsonArray> failed,
      JsonArray agents, JsonArray newEvents) {
    for (int i = 0; i < newEvents.size(); i++) {
      JsonObject e = newEvents.getJsonObject(i);
      lastEventId = Math.max(lastEventId, e.getLong("id"));
      if ("segment.copying".equals(e.getString("kind")) && e.getString("message", "").contains("re-copying: verification mismatch")) {
        mismatches.merge(e.getString("job"), 1L, Long::sum);
      }
      synchronized (recentEvents) {
        recentEvents.addLast(e);
        while (recentEvents.size() > RECENT_EVENTS) recentEvents.removeFirst();
      }
    }
    Map<String, JobMeters> local = jobs.get();
    long nanos = this.nanos.getAsLong();
    JsonArray jobs = new JsonArray();
    for (int i = 0; i < summary.size(); i++) {
      JsonObject s = summary.getJsonObject(i);
      String name = s.getString("name");
      long remaining = Math.max(0, s.getLong("rowsPlanned", 0L) - s.getLong("rowsCopied", 0L));
      JobMeters m = local.get(name);
      Eta.Range eta = etas.computeIfAbsent(name, n -> new Eta()).update(nanos, SnapshotAssembler.jobRate(name, m, agents), remaining);
      // Latencies are taken once a second, so each chart point covers one second of batches.
      long[] latencies = m == null || !regular ? null : m.stats().drainLatencies();
      JsonObject job = assembler.job(s, m, eta, heat.get(name), failed.get(name), agents, mismatches.getOrDefault(name, 0L), latencies);
      FinishWatch.Finish finish = finish(s, m, eta, remaining);
      if (finish != null) {
        JsonObject f = finish.json();
        finishes.put(name, f);
        job.put("finish", f);
      }
      if (m != null) m.figures(SnapshotAssembler.figures(s, eta, finish));
      if (regular) record(name, job);
      jobs.add(job);
    }
    try {
      outlook.ticked(summary, newEvents, local);
    } catch (RuntimeException e) {
      log.warn("live view: the planning parts failed on a tick: {}", e.toString());
    }
    broadcast(new JsonObject().put("type", "snapshot").put("at", clock.millis()).put("agent", agentStatus.get())
        .put("jobs", jobs).put("agents", agents).put("events", newEvents).encode());
  }

  /** The last minute's rates (mean, slowest, fastest second) as the ETA saw them; null while unknown. */
  private FinishWatch.Finish finish(JsonObject summary, JobMeters m, Eta.Range eta, long remaining) {
    FinishForecast.Rates recent = !eta.known() || remaining <= 0 || eta.seconds() <= 0 ? null
        : new FinishForecast.Rates(remaining / eta.seconds(), remaining / eta.high(), remaining / eta.low());
    try {
      return outlook.finish(summary, m, recent);
    } catch (RuntimeException e) {
      log.warn("live view: no finish date for job {}: {}", summary.getString("name"), e.toString());
      return null;
    }
  }

  private void record(String job, JsonObject j) {
    JsonObject live = j.getJsonObject("live", new JsonObject());
    JsonArray point = new JsonArray().add(clock.millis() / 1000.0)
        .add(live.getValue("rowsPerSecond")).add(j.getValue("jobRowsPerSecond"))
        .add(live.getValue("latencyP50Ms")).add(live.getValue("latencyP95Ms")).add(live.getValue("rateLimit"));
    Deque<JsonArray> d = history.computeIfAbsent(job, k -> new ArrayDeque<>());
    synchronized (d) {
      d.addLast(point);
      while (d.size() > HISTORY) d.removeFirst();
    }
  }

  private void broadcast(String snapshot) {
    latest = snapshot;
    for (Consumer<String> l : listeners) {
      try {
        l.accept(snapshot);
      } catch (RuntimeException e) {
        log.debug("live view listener failed: {}", e.toString());
      }
    }
  }
}
