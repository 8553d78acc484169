package dev.sluice.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.github.benmanes.caffeine.cache.stats.ConcurrentStatsCounter;
import dev.sluice.config.JobConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * One job's cache of migrated rows: canonical key text -> the row as JSON, as the target holds it.
 *
 * <p>Only rows of verified segments enter (warming reads verified segments; a read-through puts only
 * when the same query found the key's segment verified), so a hit implies the key's segment is
 * verified; when a segment leaves verified the whole cache is cleared. Every put goes through
 * {@link Generations}, so no put can undo an invalidation (see there).
 *
 * <p>Bounds: Caffeine cannot bound entries and weight at once, so the weight of an entry is its
 * estimated heap size but at least {@code maxBytes / maxEntries}: a total weight within
 * {@code maxBytes} then also means at most {@code maxEntries} entries.
 */
public final class SegmentCache {
  /** Caffeine's node, the two strings' headers and arrays, rounded up. */
  static final int ENTRY_OVERHEAD_BYTES = 128;

  private final String job;
  private final Cache<String, String> cache;
  private final Generations generations = new Generations();
  // Ours, so that loads from the target (read-through queries, warming batches) count as Caffeine
  // load time although rows are put rather than loaded through Caffeine.
  private final ConcurrentStatsCounter stats = new ConcurrentStatsCounter();
  private volatile long maxBytes;
  private volatile long maxEntries;
  private volatile int floor;
  private volatile boolean enabled;
  private final BooleanSupplier hearsChanges;
  private final AtomicBoolean live = new AtomicBoolean();

  /** A cache that always hears of changes (no change capture, or tests). */
  public SegmentCache(String job, JobConfig.Cache config) {
    this(job, config, () -> true);
  }

  /**
   * @param hearsChanges true while every change applied to the target is announced to this cache
   *     (this agent applies them, or nothing does); see {@link #live()}
   */
  public SegmentCache(String job, JobConfig.Cache config, BooleanSupplier hearsChanges) {
    this.job = job;
    this.hearsChanges = hearsChanges;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(config.maxBytes())
        .weigher((String k, String v) -> Math.max(floor, (int) Math.min(Integer.MAX_VALUE, estimateBytes(k, v))))
        // Always set, so that a reload can turn expiry on; "never" is a century.
        .expireAfterWrite(NEVER)
        // Eviction runs on the writing thread: the bound holds when a put returns, not some time later.
        .executor(Runnable::run)
        .recordStats(() -> stats)
        .build();
    applyConfig(config);
  }

  private static final Duration NEVER = Duration.ofDays(36_500);

  /**
   * Puts a (reloaded) {@code cache} section in force: both bounds (entries already cached keep their
   * weight; the next writes evict down to a lower bound), expiry, and whether the cache is used at all.
   */
  public void applyConfig(JobConfig.Cache config) {
    maxBytes = config.maxBytes();
    maxEntries = config.maxEntries();
    floor = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (maxBytes + maxEntries - 1) / maxEntries));
    cache.policy().eviction().ifPresent(e -> e.setMaximum(config.maxBytes()));
    cache.policy().expireAfterWrite().ifPresent(e -> e.setExpiresAfter(config.expireAfterWrite() == null ? NEVER : config.expireAfterWrite()));
    boolean was = enabled;
    enabled = config.enabled();
    if (was && !enabled) clear();
  }

  /** Heap bytes of an entry: both strings (one byte a char when Latin-1, else two) plus overheads. */
  static long estimateBytes(String key, String row) {
    return ENTRY_OVERHEAD_BYTES + chars(key) + chars(row);
  }

  private static long chars(String s) {
    for (int i = 0; i < s.length(); i++) if (s.charAt(i) > 0xff) return 2L * s.length();
    return s.length();
  }

  /**
   * May the cache be used now? Only while enabled, and while it hears of every applied change: with several agents, the
   * one whose applier holds the job's lock. On regaining that, it is cleared first, since changes
   * applied meanwhile were never announced to it. Readers and the warmer ask before each use.
   */
  public boolean live() {
    boolean hears = enabled && hearsChanges.getAsBoolean();
    if (!hears) {
      live.set(false);
    } else if (!live.get()) {
      synchronized (live) {
        // Cleared before anyone sees it live again.
        if (!live.get()) {
          clear();
          live.set(true);
        }
      }
    }
    return hears;
  }

  /** {@code cache.enabled} as now in force. */
  public boolean enabled() {
    return enabled;
  }

  public String job() {
    return job;
  }

  public String get(String key) {
    return cache.getIfPresent(key);
  }

  /** The generation a reader captures before reading rows it may put. */
  public long capture() {
    return generations.capture();
  }

  /** Puts a row read after {@code captured}, unless the key was invalidated since; says whether it did. */
  public boolean putIfUnchanged(String key, String row, long captured) {
    return generations.putIfUnchanged(key, captured, () -> cache.put(key, row));
  }

  /** Called by the change applier after a key's change is written to the target, before it counts as applied. */
  public void invalidate(String key) {
    generations.invalidate(key, () -> cache.invalidate(key));
  }

  /**
   * Called by a change applier before it writes these keys to the target (see
   * {@link Generations#writing}): they leave the cache and stay out until its next batch.
   */
  public void writing(List<String> keys) {
    generations.writing(keys, cache::invalidate);
  }

  /** Drops everything (a segment left verified); reads in flight cannot put what they read before. */
  public void clear() {
    generations.invalidateAll(cache::invalidateAll);
  }

  /** Records one load from the target (a read-through query or a warming batch) and how long it took. */
  public void recordLoad(long nanos, boolean success) {
    if (success) {
      stats.recordLoadSuccess(nanos);
    } else {
      stats.recordLoadFailure(nanos);
    }
  }

  public CacheStats stats() {
    return cache.stats();
  }

  public long size() {
    return cache.estimatedSize();
  }

  /** The total weight (estimated bytes) held, as Caffeine's eviction policy counts it. */
  public long weightedSize() {
    return cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  public long maxBytes() {
    return maxBytes;
  }

  public long maxEntries() {
    return maxEntries;
  }

  /** True when warming should hold back: the cache is at least 90% full by weight. */
  public boolean nearlyFull() {
    cache.cleanUp();
    return weightedSize() >= maxBytes * 9 / 10;
  }

  /** The Caffeine cache itself, for Caffeine's Micrometer binder (the job's meters register it). */
  public Cache<String, String> caffeine() {
    return cache;
  }

  /** The weight held and its bound, which Caffeine's binder leaves out; label {@code sluice_job}. */
  public void bind(MeterRegistry registry) {
    Gauge.builder("sluice.cache.weight.bytes", this, SegmentCache::weightedSize).tag("sluice_job", job)
        .description("Estimated heap bytes held by the row cache").register(registry);
    Gauge.builder("sluice.cache.max.weight.bytes", this, c -> c.maxBytes).tag("sluice_job", job)
        .description("The row cache's bound in estimated heap bytes").register(registry);
  }
}
