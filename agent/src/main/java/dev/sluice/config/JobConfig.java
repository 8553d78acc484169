package dev.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

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
    Retry retry) {

  /** Source side: table, key columns, optional row filter. */
  public record Source(TableName table, List<String> key, String where) {}

  /** Target side: table, and whether Sluice may create it. */
  public record Target(TableName table, boolean create) {}

  /** Rate budget in rows per second ({@code null}: unpaced) and the bucket's burst size. */
  public record Pace(Double rowsPerSecond, long burstRows) {}

  /** Retries of transient errors: full-jitter exponential backoff. */
  public record Retry(int maxAttempts, Duration baseDelay, Duration maxDelay) {}

  /** How rows travel: through the agent, server-side inside one database, or chosen by Sluice. */
  public enum CopyMode {
    AUTO,
    CLIENT,
    SERVER
  }
}
