package dev.sluice.cache;

import dev.sluice.config.JobConfig;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Ledger;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One job's read path, assembled: cache, warmer, segment watch, rollout, shadow check and router.
 * The agent creates one per job and hands {@link #router()} to the read API and
 * {@link #invalidate} to the change applier.
 */
public final class JobReads {
  private final ReadRouter router;
  private final SegmentCache cache;
  private final CacheWarmer warmer;
  private final SegmentWatch watch;
  private final RolloutSync sync;
  private final Ledger ledger;

  /**
   * @param hearsChanges true while every change applied to the target is announced to this agent's
   *     cache (it applies them, or nothing applies any); the cache is bypassed otherwise
   * @param warmHold why warming must wait now (job paused, throttled), or null when it may run
   * @param registry where meters go; null when metrics are off
   * @param nanos the nano clock that paces warming
   */
  public JobReads(Vertx vertx, JobShape shape, Pool readSource, Pool readTarget, Ledger ledger, BooleanSupplier hearsChanges,
      Supplier<String> warmHold, MeterRegistry registry, LongSupplier nanos) {
    JobConfig job = shape.job();
    KeyCodec codec = new KeyCodec(shape.keyTypes());
    RowLookup lookup = new RowLookup(shape, codec, readSource, readTarget);
    ReadStats stats = new ReadStats();
    Rollout rollout = new Rollout(job.reads().targetPercent());
    this.ledger = ledger;
    this.sync = new RolloutSync(vertx, ledger, job.name(), rollout);
    // Built even when disabled, so that a reload can turn it on.
    this.cache = new SegmentCache(job.name(), job.cache(), hearsChanges);
    this.warmer = new CacheWarmer(vertx, job.name(), job.cache(), lookup, cache, stats, warmHold, nanos);
    this.watch = new SegmentWatch(vertx, ledger.pool(), job.name(), cache, warmer);
    warmer.watching(watch::verified);
    ShadowCheck shadow = new ShadowCheck(vertx, job.name(), lookup, cache, rollout, stats, ledger);
    this.router = new ReadRouter(job.name(), job.reads(), codec, lookup, cache, rollout, stats, shadow,
        () -> ThreadLocalRandom.current().nextDouble());
    if (registry != null) {
      cache.bind(registry);
      stats.bind(registry, job.name(), rollout);
    }
  }

  public ReadRouter router() {
    return router;
  }

  /** The job's cache (see {@link SegmentCache#live()} for whether it is in use). */
  public SegmentCache cache() {
    return cache;
  }

  public void start() {
    sync.start();
    watch.start();
  }

  public void stop() {
    sync.stop();
    watch.stop();
    warmer.stop();
  }

  /** This agent verified a segment: warm it now rather than at the next ledger poll. */
  public void segmentVerified() {
    watch.poke();
  }

  /**
   * For the change applier: call after a key's change is committed in the target and before it counts
   * as applied. {@code keyParts}: the key's canonical parts ({@code key::text} of each column).
   */
  public void invalidate(List<String> keyParts) {
    cache.invalidate(KeyCodec.text(keyParts));
  }

  /**
   * For a change applier that announces a batch before writing it, one batch at a time: the keys
   * leave the cache and cannot re-enter it until the next batch is announced.
   */
  public void writing(List<List<String>> keys) {
    cache.writing(keys.stream().map(KeyCodec::text).toList());
  }

  /** Puts a reloaded job config's {@code reads} and {@code cache} sections in force. */
  public void applyConfig(JobConfig next) {
    boolean warmedBefore = cache.enabled() && warmer.mode() != JobConfig.WarmMode.NONE;
    int before = router.rollout().effectivePercent();
    int configured = router.config().targetPercent();
    router.applyConfig(next.reads());
    if (next.reads().targetPercent() != configured) {
      // Recorded like a control call, so that other agents and a restart follow it.
      ledger.event(next.name(), null, RolloutSync.SET, "read rollout of job " + next.name() + " set from " + before + "% to "
          + next.reads().targetPercent() + "% of key cohorts by a config reload",
          new io.vertx.core.json.JsonObject().put("from", before).put("to", next.reads().targetPercent()).put("client", "config"));
    }
    cache.applyConfig(next.cache());
    warmer.applyConfig(next.cache());
    if (!warmedBefore && next.cache().enabled() && next.cache().warm() != JobConfig.WarmMode.NONE) watch.rewarm();
  }
}
