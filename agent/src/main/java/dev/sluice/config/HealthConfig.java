package dev.sluice.config;

import java.time.Duration;
import java.util.List;

/**
 * The health sensors and how their readings are judged: a reading older than its interval plus
 * {@code grace} fails closed; a throttled job resumes only after every sensor has been healthy for
 * {@code resumeAfter}; a sensor query running longer than {@code timeout} is cancelled by the server.
 * {@code foreground}: the foreground control's knobs, or null when it is off.
 */
public record HealthConfig(List<SensorSpec> sensors, Duration grace, Duration resumeAfter, Duration timeout,
    ForegroundConfig foreground) {
  public static final long DEFAULT_INTERVAL_MS = 1_000;
  public static final long DEFAULT_GRACE_MS = 5_000;
  public static final long DEFAULT_RESUME_AFTER_MS = 5_000;
  public static final long DEFAULT_TIMEOUT_MS = 10_000;

  public HealthConfig(List<SensorSpec> sensors, Duration grace, Duration resumeAfter, Duration timeout) {
    this(sensors, grace, resumeAfter, timeout, null);
  }
}
