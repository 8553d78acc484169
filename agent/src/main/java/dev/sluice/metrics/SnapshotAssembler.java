package dev.sluice.metrics;

import dev.sluice.traffic.FinishWatch;
import dev.sluice.ledger.LiveReads;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.sluice.job.LiveFigures;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds one job's entry of the dashboard snapshot from the ledger's figures and, when this agent
 * runs the job, its live ones. Optional features (sensors, backlog, cache) appear only when
 * registered in {@link JobMeters}; the page says "not reported" for the rest.
 */
final class SnapshotAssembler {
  private final Map<String, JsonObject> lastLatency = new ConcurrentHashMap<>();

  JsonObject job(JsonObject summary, JobMeters m, Eta.Range eta, LiveReads.Heatmap heat, JsonArray failed, JsonArray agents,
      long mismatches, long[] latencies) {
    String name = summary.getString("name");
    JsonObject j = summary.copy();
    long rowsDone = summary.getLong("rowsCopied", 0L);
    j.put("rowsDone", rowsDone);
    j.put("jobRowsPerSecond", Math.round(jobRate(name, m, agents)));
    j.put("eta", new JsonObject().put("seconds", num(eta.seconds())).put("low", num(eta.low())).put("high", num(eta.high())));
    j.put("heatmap", heat == null ? new JsonObject().put("firstSeq", 0).put("cells", "")
        : new JsonObject().put("firstSeq", heat.firstSeq()).put("cells", heat.cells()).put("seqs", heat.seqs()).put("hot", heat.hot()));
    JsonArray f = failed == null ? new JsonArray() : failed;
    j.put("failed", f);
    long failedMismatch = f.stream().filter(o -> ((JsonObject) o).getString("error", "").startsWith("verification mismatch")).count();
    JsonObject segs = summary.getJsonObject("segments", new JsonObject());
    j.put("verification", new JsonObject().put("verified", segs.getInteger("verified", 0))
        .put("segments", summary.getInteger("segmentsPlanned", 0)).put("mismatchesRecopied", mismatches)
        .put("failedMismatch", failedMismatch));
    JsonArray running = new JsonArray();
    for (int i = 0; i < agents.size(); i++) {
      JsonObject a = agents.getJsonObject(i);
      JsonArray jobs = a.getJsonArray("jobs", new JsonArray());
      for (int k = 0; k < jobs.size(); k++) {
        JsonObject aj = jobs.getJsonObject(k);
        if (!name.equals(aj.getString("job")) || !(a.getBoolean("alive", false) || aj.getInteger("segmentsHeld", 0) > 0)) continue;
        running.add(new JsonObject().put("id", a.getString("id")).put("host", a.getString("host")).put("alive", a.getBoolean("alive"))
            .put("segmentsHeld", aj.getInteger("segmentsHeld", 0)).put("rowsPerSecond", Math.round(aj.getDouble("rowsPerSecond", 0.0)))
            .put("heartbeatAgeSeconds", a.getValue("heartbeatAgeSeconds"))
            .put("self", m != null && a.getString("id").equals(m.live().agentId())));
      }
    }
    j.put("agents", running);
    if (m != null) j.put("live", live(m, latency(name, latencies)));
    return j;
  }

  /** This second's batch latencies (p50, p95, count); between regular ticks, the last second's. */
  private JsonObject latency(String job, long[] latencies) {
    if (latencies == null) return lastLatency.getOrDefault(job, new JsonObject());
    JsonObject l = new JsonObject().put("batches", latencies.length);
    if (latencies.length > 0) {
      Arrays.sort(latencies);
      l.put("latencyP50Ms", ms(latencies[latencies.length / 2]));
      l.put("latencyP95Ms", ms(latencies[Math.min(latencies.length - 1, (int) Math.ceil(latencies.length * 0.95) - 1)]));
    }
    lastLatency.put(job, l);
    return l;
  }

  private JsonObject live(JobMeters meters, JsonObject latency) {
    LiveFigures f = meters.live();
    JsonObject live = new JsonObject()
        .put("rowsPerSecond", Math.round(f.rowsPerSecond()))
        .put("rowsWritten", f.rowsWritten())
        .put("rateLimit", f.rateLimit())
        .put("rateBudget", f.rateBudget())
        .put("concurrencyLimit", f.concurrencyLimit())
        .put("inFlight", f.inFlight())
        .put("retries", f.retries())
        .put("batchRows", f.batchRows())
        .put("serverSide", f.serverSide())
        .put("features", new JsonArray(meters.features()));
    live.mergeIn(latency);
    JobMeters.Throttle t = meters.throttle();
    JsonArray sensors = new JsonArray();
    meters.sensors().forEach((name, src) -> {
      JobMeters.SensorReading r = src.get();
      sensors.add(new JsonObject().put("name", name).put("value", num(r.value())).put("threshold", r.threshold())
          .put("unit", r.unit()).put("ageSeconds", num(r.ageSeconds())).put("healthy", r.healthy()));
    });
    live.put("throttle", new JsonObject().put("throttled", t.throttled()).put("code", t.code()).put("reason", t.reason())
        .put("rateFactor", f.rateFactor()).put("rateReason", f.rateReason()).put("sensors", sensors));
    JobMeters.Backlog b = meters.backlog();
    if (f.wal() != null) live.put("wal", f.wal().json());
    if (b != null) live.put("backlog", new JsonObject().put("rows", b.rows() < 0 ? null : b.rows()).put("oldestAgeSeconds", num(b.oldestAgeSeconds()))
        .put("lastApplierError", b.lastError()).put("applierFailing", b.failing()).put("keysApplied", b.applied())
        .put("keysAppliedPerSecond", num(b.appliedPerSecond())));
    Cache<?, ?> c = meters.cache();
    if (c != null) {
      CacheStats st = c.stats();
      live.put("cache", new JsonObject().put("hitRatio", num(st.requestCount() == 0 ? Double.NaN : st.hitRate()))
          .put("hits", st.hitCount()).put("misses", st.missCount()).put("evictions", st.evictionCount())
          .put("size", c.estimatedSize()));
    }
    return live;
  }

  /**
   * Rows per second of the whole job: what every live agent published with its heartbeat, with
   * this agent's own figure taken live. Smooth (each agent's is a 10 s average), unlike the ledger's
   * rows done, which jump a segment at a time.
   */
  static double jobRate(String job, JobMeters self, JsonArray agents) {
    LiveFigures mine = self == null ? null : self.live();
    double sum = mine == null ? 0 : mine.rowsPerSecond();
    for (int i = 0; i < agents.size(); i++) {
      JsonObject a = agents.getJsonObject(i);
      if (!a.getBoolean("alive", false) || (mine != null && a.getString("id").equals(mine.agentId()))) continue;
      JsonArray jobs = a.getJsonArray("jobs", new JsonArray());
      for (int k = 0; k < jobs.size(); k++) {
        if (job.equals(jobs.getJsonObject(k).getString("job"))) sum += jobs.getJsonObject(k).getDouble("rowsPerSecond", 0.0);
      }
    }
    return sum;
  }

  static JobFigures figures(JsonObject summary, Eta.Range eta, FinishWatch.Finish finish) {
    Map<String, Integer> byState = new LinkedHashMap<>();
    summary.getJsonObject("segments", new JsonObject()).forEach(e -> byState.put(e.getKey(), ((Number) e.getValue()).intValue()));
    return new JobFigures(byState, summary.getLong("rowsPlanned", 0L), summary.getLong("rowsCopied", 0L), eta, finish);
  }

  private static Double num(double d) {
    return Double.isNaN(d) || Double.isInfinite(d) ? null : Math.round(d * 10) / 10.0;
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 100_000.0) / 10.0;
  }
}
