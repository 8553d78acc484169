package dev.sluice.traffic;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one job did during (part of) one UTC hour on one agent, as sums that add up like
 * {@link TrafficHour}'s.
 *
 * @param rows rows written to the target
 * @param writeSeconds time spent in write statements (the cost per row is {@code writeSeconds / rows})
 * @param runSeconds time the job was allowed to copy (state copying, window open, not held)
 * @param slowedSeconds of the run time, how long the rate was cut below its budget (foreground, sensors)
 * @param waitSeconds time the job was held, by reason: {@code paused}, {@code window}, {@code breaker},
 *     {@code health}, {@code foreground}
 * @param allowedSum sum of the allowed rate (rows/s: the budget times the headroom factor) over
 *     {@code allowedN} samples taken while it ran; unpaced jobs contribute no samples
 * @param lagMaxSeconds the oldest captured change not yet applied, at its worst (capture lag peak)
 */
public record JobHour(String job, Instant hour, long rows, double writeSeconds, double runSeconds, double slowedSeconds,
    Map<String, Double> waitSeconds, double allowedSum, long allowedN, double lagMaxSeconds) {

  public JobHour {
    waitSeconds = Map.copyOf(waitSeconds);
  }

  public static JobHour empty(String job, Instant hour) {
    return new JobHour(job, hour, 0, 0, 0, 0, Map.of(), 0, 0, 0);
  }

  public JobHour plus(JobHour o) {
    Map<String, Double> w = new TreeMap<>(waitSeconds);
    o.waitSeconds.forEach((k, v) -> w.merge(k, v, Double::sum));
    return new JobHour(job, hour, rows + o.rows, writeSeconds + o.writeSeconds, runSeconds + o.runSeconds,
        slowedSeconds + o.slowedSeconds, w, allowedSum + o.allowedSum, allowedN + o.allowedN, Math.max(lagMaxSeconds, o.lagMaxSeconds));
  }

  /** Rows per second while allowed to run; NaN without run time. */
  public double achievedRate() {
    return runSeconds <= 0 ? Double.NaN : rows / runSeconds;
  }

  public double allowedRate() {
    return allowedN == 0 ? Double.NaN : allowedSum / allowedN;
  }

  public double waitedSeconds() {
    return waitSeconds.values().stream().mapToDouble(Double::doubleValue).sum();
  }
}
