package dev.sluice.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a job's read-path sections: {@code cache} and {@code reads} (see docs/cutover.md). Kept apart
 * from {@link ConfigLoader} like the other sections; the defaults are declared with {@link JobConfig.Cache}
 * and {@link JobConfig.Reads} and repeated in docs/config.md.
 */
final class ReadSections {

  private ReadSections() {}

  static JobConfig.Cache cache(ConfigNode n) {
    boolean enabled = n.bool("enabled", JobConfig.Cache.DEFAULT_ENABLED);
    long entries = n.integer("maxEntries", JobConfig.Cache.DEFAULT_MAX_ENTRIES, 1, 1_000_000_000);
    long bytes = n.integer("maxBytes", JobConfig.Cache.DEFAULT_MAX_BYTES, 1024, 1L << 40);
    long expire = n.integer("expireAfterWriteSeconds", JobConfig.Cache.DEFAULT_EXPIRE_SECONDS, 0, 365L * 86_400);
    Map<String, JobConfig.WarmMode> warmModes = new LinkedHashMap<>();
    warmModes.put("all", JobConfig.WarmMode.ALL);
    warmModes.put("first", JobConfig.WarmMode.FIRST);
    warmModes.put("none", JobConfig.WarmMode.NONE);
    JobConfig.WarmMode warm = n.choice("warm", warmModes.get(JobConfig.Cache.DEFAULT_WARM), warmModes);
    long first = n.integer("warmFirstRows", JobConfig.Cache.DEFAULT_WARM_FIRST_ROWS, 1, 1_000_000_000);
    double rate = n.number("warmRowsPerSecond", JobConfig.Cache.DEFAULT_WARM_ROWS_PER_SECOND, 1, 1e7);
    int batch = n.integer("warmBatchRows", (long) JobConfig.Cache.DEFAULT_WARM_BATCH_ROWS, 1, 10_000).intValue();
    if (n.has("warmFirstRows") && warm != JobConfig.WarmMode.FIRST) n.problem("warmFirstRows", "applies only with \"warm\": \"first\"");
    n.rejectUnknown();
    return new JobConfig.Cache(enabled, entries, bytes, expire == 0 ? null : Duration.ofSeconds(expire), warm, first, rate, batch);
  }

  static JobConfig.Reads reads(ConfigNode n) {
    int target = n.integer("targetPercent", (long) JobConfig.Reads.DEFAULT_TARGET_PERCENT, 0, 100).intValue();
    double shadow = n.number("shadowPercent", JobConfig.Reads.DEFAULT_SHADOW_PERCENT, 0, 100);
    int maxMismatches = n.integer("shadowMaxMismatches", (long) JobConfig.Reads.DEFAULT_SHADOW_MAX_MISMATCHES, 0, 1_000_000).intValue();
    long recheck = n.integer("shadowRecheckMs", JobConfig.Reads.DEFAULT_SHADOW_RECHECK_MS, 0, 600_000);
    int batchMax = n.integer("batchMax", (long) JobConfig.Reads.DEFAULT_BATCH_MAX, 1, 10_000).intValue();
    n.rejectUnknown();
    return new JobConfig.Reads(target, shadow, maxMismatches, Duration.ofMillis(recheck), batchMax);
  }
}
