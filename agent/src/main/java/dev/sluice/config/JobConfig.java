package dev.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** One table to move. Each record declares its defaults; docs/config.md describes every field. */
public record JobConfig(
    String name,
    Source source,
    Target target,
    Map<String, String> columns,
    long segmentRows,
    int batchRows,
    Pace pace,
    int concurrencyMax,
    CopyMode mode,
    Retry retry,
    Capture capture,
    Verify verify,
    Drift drift,
    Rollback rollback,
    Cache cache,
    Reads reads,
    Order order,
    Pacing pacing) {
  public static final long DEFAULT_SEGMENT_ROWS = 50_000;
  public static final int DEFAULT_BATCH_ROWS = 5_000;
  /** {@code concurrency.max} when the config does not say (on the COPY path see {@link #concurrencyMax(boolean, int)}). */
  public static final int DEFAULT_CONCURRENCY_MAX = 4;

  /**
   * Segments of this job in flight on one agent, on the path it takes: {@code concurrency.max} as the
   * config gives it. Left to its default, a COPY-path job takes half the agent's cores, at least
   * {@code concurrency.min} (1) and at most {@value #DEFAULT_CONCURRENCY_MAX}: each COPY stream keeps a source backend, a target
   * backend and the agent busy, and on two cores four streams cost PostgreSQL more CPU (backends
   * waking each other) for no more throughput than one (benchmarks/PROFILE.md, issue 13). Other paths
   * keep {@value #DEFAULT_CONCURRENCY_MAX}.
   */
  public int concurrencyMax(boolean copyPath, int cores) {
    if (!copyPath || pacing.concurrencyMaxGiven() != null) return concurrencyMax;
    return Math.max(pacing.concurrencyMin(), Math.min(concurrencyMax, cores / 2));
  }

  /** What a job's name may be: it appears in URLs, metric labels and the ledger. */
  public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,39}");

  /** Source side: table, key columns, optional row filter. */
  public record Source(TableName table, List<String> key, String where) {}

  /** Target side: table, and whether Sluice may create it. */
  public record Target(TableName table, boolean create) {}

  /** Rate budget in rows per second ({@code null}: unpaced) and the bucket's burst size. */
  public record Pace(Double rowsPerSecond, long burstRows) {}

  /** Retries of transient errors: full-jitter exponential backoff. */
  public record Retry(int maxAttempts, Duration baseDelay, Duration maxDelay) {
    public static final int DEFAULT_MAX_ATTEMPTS = 8;
    public static final long DEFAULT_BASE_DELAY_MS = 200;
    public static final long DEFAULT_MAX_DELAY_MS = 30_000;
  }

  /**
   * Change capture on the source: a trigger or the WAL reader records changed keys while the copy runs; the applier
   * re-reads and applies them in batches of {@code batchRows}, woken by NOTIFY or every
   * {@code pollInterval}; the job is in sync while the backlog stays at or below {@code inSyncRows}.
   */
  public record Capture(boolean enabled, CaptureMode mode, int batchRows, Duration pollInterval, long inSyncRows, SlotLimits slot) {
    public static final int DEFAULT_BATCH_ROWS = 2_000;
    public static final long DEFAULT_POLL_MS = 1_000;
    public static final long DEFAULT_IN_SYNC_ROWS = 100;
    /** The environment variable that sets the default of {@code capture.mode} (else {@code auto}). */
    public static final String MODE_ENV = "SLUICE_CAPTURE_MODE";
  }

  /**
   * Where changed keys come from: capture triggers on the source table ({@code TRIGGER}), the
   * source's write-ahead log through a logical replication slot ({@code LOGICAL}), or the log when
   * the source allows it and the triggers otherwise ({@code AUTO}).
   */
  public enum CaptureMode {
    AUTO,
    TRIGGER,
    LOGICAL
  }

  /**
   * How much WAL a job's replication slot may hold back on the source, in MB: past {@code throttleMb}
   * the copy slows, past {@code pauseMb} the job waits, at {@code dropMb} the slot is dropped and
   * what it covered is verified again.
   */
  public record SlotLimits(long throttleMb, long pauseMb, long dropMb) {
    public static final long DEFAULT_THROTTLE_MB = 1_024;
    public static final long DEFAULT_PAUSE_MB = 4_096;
    public static final long DEFAULT_DROP_MB = 16_384;
  }

  /**
   * Verification: each segment's target rows read back and compared with what the copy read
   * ({@code perSegment}; off, a segment counts on the target's own count of rows stored), the final
   * pass once in sync, a share of rows compared column by column, and SQL assertions evaluated on
   * both sides per segment.
   */
  public record Verify(boolean finalPass, boolean perSegment, double sampleRate, List<Check> checks) {
    public static final double DEFAULT_SAMPLE_RATE = 0.0;
  }

  /** A business-rule assertion: one SQL per side, with the segment's bounds as parameters. */
  public record Check(String name, String source, String target) {}

  /** Drift detection: how often the catalogs are compared, and the NULL-share difference that pauses. */
  public record Drift(boolean enabled, Duration interval, double nullRatioThreshold) {
    public static final long DEFAULT_INTERVAL_MS = 5_000;
    public static final double DEFAULT_NULL_RATIO_THRESHOLD = 0.05;
  }

  /** Rollback: whether an abort rule rolls the job back, and the pace of deleting (rows/s, null: unpaced). */
  public record Rollback(boolean onAbort, Double rowsPerSecond) {}

  /**
   * The job's row cache (see docs/cutover.md). Bounded by {@code maxEntries} and {@code maxBytes} (an
   * estimate of each row's heap size); {@code expireAfterWrite} null means no expiry; warming loads a
   * verified segment's rows ({@code ALL}, the first {@code warmFirstRows}, or {@code NONE}) at its own
   * pace, {@code warmRowsPerSecond}, in batches of {@code warmBatchRows}.
   */
  public record Cache(boolean enabled, long maxEntries, long maxBytes, Duration expireAfterWrite, WarmMode warm,
      long warmFirstRows, double warmRowsPerSecond, int warmBatchRows) {
    public static final boolean DEFAULT_ENABLED = true;
    public static final long DEFAULT_MAX_ENTRIES = 100_000;
    public static final long DEFAULT_MAX_BYTES = 64L * 1024 * 1024;
    public static final long DEFAULT_EXPIRE_SECONDS = 0;
    public static final String DEFAULT_WARM = "all";
    public static final long DEFAULT_WARM_FIRST_ROWS = 1_000;
    public static final double DEFAULT_WARM_ROWS_PER_SECOND = 1_000;
    public static final int DEFAULT_WARM_BATCH_ROWS = 500;
  }

  /** Which rows of a verified segment are loaded into the cache. */
  public enum WarmMode {
    ALL,
    FIRST,
    NONE
  }

  /**
   * Read routing (see docs/cutover.md): the share of key cohorts served from the target, the share of
   * target-served reads also read from the source and compared, the confirmed mismatches tolerated
   * before the rollout pauses, the delay before a mismatch is re-checked, and the most keys a batch may ask.
   */
  public record Reads(int targetPercent, double shadowPercent, int shadowMaxMismatches, Duration shadowRecheckDelay,
      int batchMax) {
    public static final int DEFAULT_TARGET_PERCENT = 0;
    public static final double DEFAULT_SHADOW_PERCENT = 0;
    public static final int DEFAULT_SHADOW_MAX_MISMATCHES = 0;
    public static final long DEFAULT_SHADOW_RECHECK_MS = 1_000;
    public static final int DEFAULT_BATCH_MAX = 100;
  }

  /**
   * Adaptive pacing and safety: segments in flight move within {@code [concurrencyMin, concurrencyMax]},
   * batches are sized toward {@code batchTarget} within {@code [batchMinRows, batchMaxRows]}, a
   * segment's copy (one source snapshot) is cut at {@code segmentMaxTime}, the job runs only inside
   * {@code schedule}, and is aborted when {@code abort} is spent. {@code concurrencyMaxGiven}: the
   * {@code concurrency.max} the config wrote, or null when it left the default.
   */
  public record Pacing(int concurrencyMin, int batchMinRows, int batchMaxRows, Duration batchTarget, Duration segmentMaxTime,
      ScheduleConfig schedule, Abort abort, Integer concurrencyMaxGiven) {
    public static final int DEFAULT_CONCURRENCY_MIN = 1;
    public static final int DEFAULT_BATCH_MIN_ROWS = 100;
    public static final int DEFAULT_BATCH_MAX_ROWS = 20_000;
    public static final long DEFAULT_BATCH_TARGET_MS = 250;
    public static final long DEFAULT_SEGMENT_MAX_SECONDS = 60;
  }

  /**
   * The abort rule ({@code abort}): at most {@code maxFailedSegments} parked segments, or at most
   * {@code maxFailedRatio} of the finished ones once {@code minFinished} are finished (null: no limit).
   * What it means is resilience.ErrorBudget's.
   */
  public record Abort(Integer maxFailedSegments, Double maxFailedRatio, int minFinished) {
    public static final int DEFAULT_MIN_FINISHED = 10;
    public static final Abort NONE = new Abort(null, null, 0);

    public boolean limited() {
      return maxFailedSegments != null || maxFailedRatio != null;
    }
  }

  /**
   * The order segments are claimed in: {@code cold-first} (the segments drawing the fewest captured
   * changes first, the hot ones last, very hot ones split finer; see plan.ColdFirst) or {@code key}
   * (key order). The default is cold-first when change capture is on (it saves re-applying the hot
   * keys' changes), key order otherwise (nothing to rank by but the keys' recency).
   */
  public enum Order {
    COLD_FIRST,
    KEY;

    public static Order defaultFor(Capture capture) {
      return capture != null && capture.enabled() ? COLD_FIRST : KEY;
    }

    public String configName() {
      return this == COLD_FIRST ? "cold-first" : "key";
    }
  }

  /**
   * How rows travel: through the agent (COPY where it can serve), server-side inside one database,
   * as row batches through the agent (never COPY), or chosen by Sluice.
   */
  public enum CopyMode {
    AUTO,
    CLIENT,
    SERVER,
    ROWS
  }
}
