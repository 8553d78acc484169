package dev.sluice.cache;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;

/** Counters of one job's read path, for the API and (when a registry exists) Micrometer. */
public final class ReadStats {
  private final AtomicLong cache = new AtomicLong();
  private final AtomicLong target = new AtomicLong();
  private final AtomicLong source = new AtomicLong();
  private final AtomicLong notFound = new AtomicLong();
  private final AtomicLong shadowChecks = new AtomicLong();
  private final AtomicLong shadowMismatches = new AtomicLong();
  private final AtomicLong shadowLagged = new AtomicLong();
  private final AtomicLong shadowErrors = new AtomicLong();
  private final AtomicLong shadowSkipped = new AtomicLong();
  private final AtomicLong warmed = new AtomicLong();
  private final AtomicLong targetErrors = new AtomicLong();

  void served(ReadRouter.From from, boolean found) {
    (from == ReadRouter.From.CACHE ? cache : from == ReadRouter.From.TARGET ? target : source).incrementAndGet();
    if (!found) notFound.incrementAndGet();
  }

  void targetError() {
    targetErrors.incrementAndGet();
  }

  void shadowCheck() {
    shadowChecks.incrementAndGet();
  }

  long shadowMismatch() {
    return shadowMismatches.incrementAndGet();
  }

  void shadowLagged() {
    shadowLagged.incrementAndGet();
  }

  void shadowSkipped(long n) {
    shadowSkipped.addAndGet(n);
  }

  void shadowError() {
    shadowErrors.incrementAndGet();
  }

  void warmed(long n) {
    warmed.addAndGet(n);
  }

  public long served(ReadRouter.From from) {
    return (from == ReadRouter.From.CACHE ? cache : from == ReadRouter.From.TARGET ? target : source).get();
  }

  public long shadowMismatches() {
    return shadowMismatches.get();
  }

  public long shadowChecks() {
    return shadowChecks.get();
  }

  public long warmedRows() {
    return warmed.get();
  }

  public JsonObject json() {
    return new JsonObject()
        .put("servedFrom", new JsonObject().put("cache", cache.get()).put("target", target.get()).put("source", source.get()))
        .put("notFound", notFound.get())
        .put("targetErrors", targetErrors.get())
        .put("shadow", new JsonObject().put("checks", shadowChecks.get()).put("mismatches", shadowMismatches.get())
            .put("lagged", shadowLagged.get()).put("errors", shadowErrors.get()).put("skipped", shadowSkipped.get()))
        .put("warmedRows", warmed.get());
  }

  /** Registers the counters, tagged by job, and the rollout's shares. */
  public void bind(MeterRegistry registry, String job, Rollout rollout) {
    for (ReadRouter.From f : ReadRouter.From.values()) {
      FunctionCounter.builder("sluice.reads.served", this, s -> s.served(f)).tags("sluice_job", job, "from", f.header())
          .description("Reads answered, by where the row came from").register(registry);
    }
    FunctionCounter.builder("sluice.reads.not.found", notFound, AtomicLong::get).tag("sluice_job", job)
        .description("Reads of keys with no row").register(registry);
    FunctionCounter.builder("sluice.reads.target.errors", targetErrors, AtomicLong::get).tag("sluice_job", job)
        .description("Target reads that failed, their keys served from the source").register(registry);
    FunctionCounter.builder("sluice.reads.shadow.checks", shadowChecks, AtomicLong::get).tag("sluice_job", job)
        .description("Target-served reads compared with the source").register(registry);
    FunctionCounter.builder("sluice.reads.shadow.mismatches", shadowMismatches, AtomicLong::get).tag("sluice_job", job)
        .description("Target rows that differed from the source on a re-check").register(registry);
    FunctionCounter.builder("sluice.reads.shadow.lagged", shadowLagged, AtomicLong::get).tag("sluice_job", job)
        .description("Differences gone on the re-check (change not yet applied)").register(registry);
    FunctionCounter.builder("sluice.reads.shadow.skipped", shadowSkipped, AtomicLong::get).tag("sluice_job", job)
        .description("Shadow comparisons skipped because too many were in flight").register(registry);
    FunctionCounter.builder("sluice.cache.warmed.rows", warmed, AtomicLong::get).tag("sluice_job", job)
        .description("Rows loaded into the row cache by warming").register(registry);
    Gauge.builder("sluice.reads.target.percent", rollout, Rollout::effectivePercent).tag("sluice_job", job)
        .description("Share of key cohorts served from the target now (0 while paused)").register(registry);
  }
}
