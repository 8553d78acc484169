package dev.sluice.job;

import dev.sluice.health.HealthMonitor;
import dev.sluice.resilience.DatabaseBreaker;

/** The agent-wide protections every job's gate consults: health sensors and each database's circuit breaker. */
public record Guards(HealthMonitor health, DatabaseBreaker source, DatabaseBreaker target) {}
