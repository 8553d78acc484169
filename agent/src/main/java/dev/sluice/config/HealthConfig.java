package dev.sluice.config;

import dev.sluice.health.SensorSpec;
import java.time.Duration;
import java.util.List;

/**
 * The health sensors and how their readings are judged: a reading older than its interval plus
 * {@code grace} fails closed; a throttled job resumes only after every sensor has been healthy for
 * {@code resumeAfter}; a sensor query running longer than {@code timeout} is cancelled by the server.
 */
public record HealthConfig(List<SensorSpec> sensors, Duration grace, Duration resumeAfter, Duration timeout) {}
