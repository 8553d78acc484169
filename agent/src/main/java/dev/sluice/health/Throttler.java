package dev.sluice.health;

import dev.sluice.config.SensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The decision between sensors and actuator (gh-ost's throttler): reads stored readings only, and
 * says whether to throttle, why (a sentence an operator understands), and how much of the configured
 * rate to use.
 *
 * <p><b>Throttle.</b> A sensor is unhealthy when its value is above its threshold, when its last
 * attempt failed, or when its reading is older than its interval plus {@code grace} (fail closed: a
 * sensor that hangs or cannot connect stops the job). Any unhealthy sensor throttles. Hysteresis:
 * once throttled, the job resumes only after every sensor has been healthy for {@code resumeAfter}
 * (a sensor that has no reading yet, at start-up, holds the job without arming this).
 *
 * <p><b>Rate follows headroom.</b> For each healthy sensor with value {@code v} and threshold
 * {@code max}, utilisation {@code u = v / max} maps to a rate factor:
 *
 * <pre>
 *   f(u) = 1                                            for u <= SOFT
 *   f(u) = 1 - (1 - FLOOR) * (u - SOFT) / (1 - SOFT)     for SOFT < u <= 1
 * </pre>
 *
 * with {@code SOFT = }{@value #SOFT} and {@code FLOOR = }{@value #FLOOR}: full speed with half the
 * headroom left, a tenth of the rate at the threshold. The job's factor is the smallest over its
 * sensors. It falls at once (protecting the database comes first) and rises by at most
 * {@code RISE = }{@value #RISE_PER_SECOND} per second, so a recovering signal is not hit with a
 * burst. Pure: time comes in as an argument; callers synchronise.
 */
public final class Throttler {
  static final double SOFT = 0.5;
  static final double FLOOR = 0.1;
  static final double RISE_PER_SECOND = 0.1;

  private List<SensorSpec> sensors;
  private long graceNanos;
  private long resumeAfterNanos;
  private boolean throttled;
  private String lastReason;
  private long healthySince = -1;
  private double factor = 1.0;
  private long lastNanos = Long.MIN_VALUE;

  /** The outcome: throttle or not, the reason, and the share of the configured rate to use. */
  public record Decision(boolean throttled, String reason, double rateFactor, String headroom) {}

  public Throttler(List<SensorSpec> sensors, long graceNanos, long resumeAfterNanos) {
    this.sensors = List.copyOf(sensors);
    this.graceNanos = graceNanos;
    this.resumeAfterNanos = resumeAfterNanos;
  }

  public List<SensorSpec> sensors() {
    return sensors;
  }

  /**
   * New thresholds and timings (a config reload), keeping the decision's state: a throttled job
   * still waits out {@code resumeAfter} from when it became healthy, and the rate factor still rises
   * at most {@value #RISE_PER_SECOND} per second, so a reload never causes a burst.
   */
  public void reconfigure(List<SensorSpec> sensors, long graceNanos, long resumeAfterNanos) {
    this.sensors = List.copyOf(sensors);
    this.graceNanos = graceNanos;
    this.resumeAfterNanos = resumeAfterNanos;
  }

  public Decision decide(Map<String, Reading> readings, long now) {
    List<String> problems = new ArrayList<>();
    int real = 0;
    double target = 1.0;
    String tightest = null;
    for (SensorSpec s : sensors) {
      Reading r = readings.get(s.id());
      String problem = judge(s, r, now);
      if (problem != null && r != null) real++;
      if (problem != null) {
        problems.add(problem);
        continue;
      }
      double f = headroomFactor(r.value() / s.max());
      if (f < target) {
        target = f;
        tightest = s.label() + " " + s.format(r.value()) + " of " + s.format(s.max());
      }
    }
    smooth(target, now);
    String headroom = factor >= 1.0 ? null
        : String.format(Locale.ROOT, "rate at %d%%: %s", Math.round(factor * 100), tightest == null ? "recovering" : tightest);
    if (!problems.isEmpty()) {
      // Waiting for a first reading is not a sign of stress: it holds the job but arms no hysteresis.
      if (real == 0 && !throttled) return new Decision(true, problems.get(0), factor, headroom);
      throttled = true;
      healthySince = -1;
      lastReason = String.join("; ", problems);
      return new Decision(true, lastReason, factor, headroom);
    }
    if (throttled) {
      if (healthySince < 0) healthySince = now;
      long healthy = now - healthySince;
      if (healthy < resumeAfterNanos) {
        return new Decision(true, String.format(Locale.ROOT, "sensors healthy for %.1f s of the %.1f s required to resume (was: %s)",
            healthy / 1e9, resumeAfterNanos / 1e9, lastReason), factor, headroom);
      }
      throttled = false;
    }
    return new Decision(false, null, factor, headroom);
  }

  private String judge(SensorSpec s, Reading r, long now) {
    if (r == null) return s.label() + " has no reading yet";
    long age = now - r.atNanos();
    if (age > s.interval().toNanos() + graceNanos) {
      return String.format(Locale.ROOT, "%s has not answered for %.1f s (grace %.1f s); failing closed",
          s.label(), age / 1e9, (s.interval().toNanos() + graceNanos) / 1e9);
    }
    if (!r.ok()) return s.label() + " failed: " + r.error();
    if (r.value() > s.max()) return s.label() + " " + s.format(r.value()) + " > " + s.format(s.max());
    return null;
  }

  static double headroomFactor(double utilisation) {
    if (utilisation <= SOFT) return 1.0;
    if (utilisation >= 1.0) return FLOOR;
    return 1.0 - (1.0 - FLOOR) * (utilisation - SOFT) / (1.0 - SOFT);
  }

  private void smooth(double target, long now) {
    if (lastNanos == Long.MIN_VALUE || target <= factor) {
      factor = target;
    } else {
      double dt = Math.max(0, now - lastNanos) / 1e9;
      factor = Math.min(target, factor + RISE_PER_SECOND * dt);
    }
    lastNanos = now;
  }
}
