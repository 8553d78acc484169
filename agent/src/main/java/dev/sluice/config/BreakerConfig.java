package dev.sluice.config;

import java.time.Duration;

/**
 * The circuit breaker of each database: opens after {@code failures} consecutive connection-class
 * errors, probes after {@code open}, doubling up to {@code maxOpen} while the database stays down.
 */
public record BreakerConfig(int failures, Duration open, Duration maxOpen) {
  public static final int DEFAULT_FAILURES = 3;
  public static final long DEFAULT_OPEN_MS = 1_000;
  public static final long DEFAULT_MAX_OPEN_MS = 30_000;
}
