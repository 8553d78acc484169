package dev.sluice.config;

import java.time.Duration;

/**
 * The circuit breaker of each database: opens after {@code failures} consecutive connection-class
 * errors, probes after {@code open}, doubling up to {@code maxOpen} while the database stays down.
 */
public record BreakerConfig(int failures, Duration open, Duration maxOpen) {}
