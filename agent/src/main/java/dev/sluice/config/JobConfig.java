package dev.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** One table to move. See docs/config.md for every field and its default. */
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
    Pacing pacing) {

  /** What a job's name may be: it appears in URLs, metric labels and the ledger. */
  public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,39}");

  /** Source side: table, key columns, optional row filter. */
  public record Source(TableName table, List<String> key, String where) {}

  /** Target side: table, and whether Sluice may create it. */
  public record Target(TableName table, boolean create) {}

  /** Rate budget in rows per second ({@code null}: unpaced) and the bucket's burst size. */
  public record Pace(Double rowsPerSecond, long burstRows) {}

  /** Retries of transient errors: full-jitter exponential backoff. */
  public record Retry(int maxAttempts, Duration baseDelay, Duration maxDelay) {}

  /**
   * Change capture on the source: a trigger records changed keys while the copy runs; the applier
   * re-reads and applies them in batches of {@code batchRows}, woken by NOTIFY or every
   * {@code pollInterval}; the job is in sync while the backlog stays at or below {@code inSyncRows}.
   */
  public record Capture(boolean enabled, int batchRows, Duration pollInterval, long inSyncRows) {}

  /**
   * Verification beyond the per-segment checksum: the final pass once in sync, a share of rows
   * compared column by column, and SQL assertions evaluated on both sides per segment.
   */
  public record Verify(boolean finalPass, double sampleRate, List<Check> checks) {}

  /** A business-rule assertion: one SQL per side, with the segment's bounds as parameters. */
  public record Check(String name, String source, String target) {}

  /** Drift detection: how often the catalogs are compared, and the NULL-share difference that pauses. */
  public record Drift(boolean enabled, Duration interval, double nullRatioThreshold) {}

  /** Rollback: whether an abort rule rolls the job back, and the pace of deleting (rows/s, null: unpaced). */
  public record Rollback(boolean onAbort, Double rowsPerSecond) {}

  /**
   * The job's row cache (see docs/cutover.md). Bounded by {@code maxEntries} and {@code maxBytes} (an
   * estimate of each row's heap size); {@code expireAfterWrite} null means no expiry; warming loads a
   * verified segment's rows ({@code ALL}, the first {@code warmFirstRows}, or {@code NONE}) at its own
   * pace, {@code warmRowsPerSecond}, in batches of {@code warmBatchRows}.
   */
  public record Cache(boolean enabled, long maxEntries, long maxBytes, Duration expireAfterWrite, WarmMode warm,
      long warmFirstRows, double warmRowsPerSecond, int warmBatchRows) {}

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
      int batchMax) {}

  /**
   * Adaptive pacing and safety: segments in flight move within {@code [concurrencyMin, concurrencyMax]},
   * batches are sized toward {@code batchTarget} within {@code [batchMinRows, batchMaxRows]}, a
   * segment's copy (one source snapshot) is cut at {@code segmentMaxTime}, the job runs only inside
   * {@code schedule}, and is aborted when {@code abort} is spent.
   */
  public record Pacing(int concurrencyMin, int batchMinRows, int batchMaxRows, Duration batchTarget, Duration segmentMaxTime,
      dev.sluice.pace.Schedule schedule, dev.sluice.resilience.ErrorBudget abort) {}

  /** How rows travel: through the agent, server-side inside one database, or chosen by Sluice. */
  public enum CopyMode {
    AUTO,
    CLIENT,
    SERVER
  }
}
