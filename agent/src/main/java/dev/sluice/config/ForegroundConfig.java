package dev.sluice.config;

/**
 * {@code health.foreground}: the foreground control's knobs (see pace.ForegroundPace for what each
 * does). Defaults below; docs/config.md repeats them.
 */
public record ForegroundConfig(long quietNanos, double tolerance, double minRateFactor, double startRateFactor, double throttleRatio) {
  public static final long DEFAULT_INTERVAL_MS = 100;
  public static final long DEFAULT_QUIET_MS = 30_000;
  public static final double DEFAULT_PROBE_TOLERANCE = 1.5;
  public static final double DEFAULT_MIN_RATE_FACTOR = 0.02;
  public static final double DEFAULT_START_RATE_FACTOR = 0.1;
  public static final double DEFAULT_THROTTLE_RATIO = 4.0;
}
