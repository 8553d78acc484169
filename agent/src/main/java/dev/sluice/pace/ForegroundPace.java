package dev.sluice.pace;

import dev.sluice.config.ForegroundConfig;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * Keeps the database's own users from feeling the copy. Two inputs: the foreground sensor (how many
 * sessions other than Sluice's are inside a transaction, sampled about ten times a second) and the
 * foreground probe's latency (a {@code SELECT 1} on the source, or a commit on the target when both
 * share a server and so a WAL). Output: a rate factor in {@code [minRateFactor, 1]} and, at the bottom, a hard
 * throttle.
 *
 * <p><b>No foreground</b> (no busy session seen for {@code quiet}): the database has room, so the
 * factor rises to 1 (by {@value #IDLE_RISE_PER_SECOND} per second): full speed.
 *
 * <p><b>Foreground present</b>: the factor drops at once to at most {@code startRateFactor}, then
 * once per step ({@value #STEP_MS} ms) an AIMD loop holds the probe near its floor:
 *
 * <pre>
 *   mean = the probe's mean latency over the last step
 *   ratio = mean / floor
 *   ratio >  tolerance  ->  factor = max(minRateFactor, factor * BACKOFF)
 *   ratio <= tolerance  ->  factor = min(1, factor + STEP_UP)
 *   factor at minRateFactor and ratio > throttleRatio  ->  throttled (the job waits) until ratio <= tolerance
 * </pre>
 *
 * with {@code BACKOFF = }{@value #BACKOFF} and {@code STEP_UP = }{@value #STEP_UP}. The mean, not a
 * percentile: what users feel is the tail (a commit that waited behind a batch's WAL), and one such
 * reading in ten doubles a mean while a p90 does not see it (measured: probe p90 within 1.2x of its
 * floor while pgbench's p99 was 3-7x its baseline). Why not the probe
 * alone: the probe rises with Sluice's own load even on an idle database, so by itself it cannot tell
 * "using an idle box" from "hurting users"; the foreground sensor can.
 *
 * <p><b>Floor.</b> The lowest step mean seen. While Sluice is at its minimum rate or held (so its own
 * load is least) it drifts toward the current mean by {@value #FLOOR_DRIFT} of the gap a step, so a
 * lasting change (heavier foreground, a new network path) is learnt; otherwise it only falls, so
 * Sluice's own load never raises it.
 * Pure: time comes in as arguments; callers synchronise.
 */
public final class ForegroundPace {
  static final long STEP_MS = 1000;
  static final double BACKOFF = 0.7;
  static final double STEP_UP = 0.01;
  static final double FLOOR_DRIFT = 0.02;
  static final double IDLE_RISE_PER_SECOND = 0.25;
  static final int MIN_SAMPLES = 3;

  /** The outcome: the factor, whether to hold the job, and a sentence for the operator (null at full speed). */
  public record Verdict(double rateFactor, boolean throttled, String reason) {}

  private ForegroundConfig settings;
  private final Deque<double[]> probes = new ArrayDeque<>();
  private long lastBusyNanos = Long.MIN_VALUE;
  private double busyAverage;
  private int busyPeak;
  private boolean present;
  private double factor = 1.0;
  private double floor = Double.NaN;
  private double lastMean = Double.NaN;
  private boolean throttled;
  private long lastStep = Long.MIN_VALUE;
  private long lastDecide = Long.MIN_VALUE;

  public ForegroundPace(ForegroundConfig settings) {
    this.settings = settings;
  }

  /** New knobs (a config reload); the learnt floor and the factor are kept, so a reload makes no burst. */
  public void reconfigure(ForegroundConfig next) {
    this.settings = next;
    factor = Math.max(factor, next.minRateFactor());
  }

  /** A foreground sample: {@code busy} other sessions were inside a transaction at {@code now}. */
  public void onSessions(int busy, long now) {
    busyAverage += 0.1 * (busy - busyAverage);
    if (busy > 0) {
      if (lastBusyNanos == Long.MIN_VALUE || now - lastBusyNanos > settings.quietNanos()) busyPeak = 0;
      lastBusyNanos = now;
      busyPeak = Math.max(busyPeak, busy);
    }
  }

  /** A probe reading: its latency in milliseconds, taken at {@code now}. */
  public void onProbe(double ms, long now) {
    probes.addLast(new double[] {now, ms});
    while (probes.size() > 1000) probes.removeFirst();
  }

  public Verdict decide(long now) {
    boolean was = present;
    present = lastBusyNanos != Long.MIN_VALUE && now - lastBusyNanos <= settings.quietNanos();
    if (present && !was) {
      factor = Math.min(factor, settings.startRateFactor()); // protect the users first, then learn
      lastStep = now;
    }
    if (lastStep == Long.MIN_VALUE) lastStep = now;
    if (now - lastStep >= STEP_MS * 1_000_000L) {
      step(now);
      lastStep = now;
    }
    if (!present) {
      throttled = false;
      double dt = lastDecide == Long.MIN_VALUE ? 0 : Math.max(0, now - lastDecide) / 1e9;
      factor = Math.min(1.0, factor + IDLE_RISE_PER_SECOND * dt);
    }
    lastDecide = now;
    return new Verdict(factor, throttled, reason());
  }

  private void step(long now) {
    double mean = windowMean(now - STEP_MS * 1_000_000L);
    lastMean = mean;
    if (Double.isNaN(mean)) return;
    if (Double.isNaN(floor) || mean < floor) floor = mean;
    else if (present && (throttled || factor <= settings.minRateFactor())) floor += (mean - floor) * FLOOR_DRIFT;
    if (!present) return;
    double ratio = mean / floor;
    if (ratio > settings.tolerance()) {
      factor = Math.max(settings.minRateFactor(), factor * BACKOFF);
      if (factor <= settings.minRateFactor() && ratio > settings.throttleRatio()) throttled = true;
    } else {
      throttled = false;
      factor = Math.min(1.0, factor + STEP_UP);
    }
  }

  /** The mean of the probe readings since {@code from}; NaN with too few. */
  private double windowMean(long from) {
    while (!probes.isEmpty() && probes.peekFirst()[0] < from) probes.removeFirst();
    if (probes.size() < MIN_SAMPLES) return Double.NaN;
    return probes.stream().mapToDouble(p -> p[1]).average().orElse(Double.NaN);
  }

  private String reason() {
    if (!present && factor >= 1.0) return null;
    if (!present) {
      return String.format(Locale.ROOT, "no foreground for %.0f s: rate back up at %d%%", settings.quietNanos() / 1e9, Math.round(factor * 100));
    }
    String fg = String.format(Locale.ROOT, "foreground active (up to %d other sessions in a transaction, %.1f on average)", busyPeak, busyAverage);
    if (Double.isNaN(floor)) {
      return String.format(Locale.ROOT, "%s, learning the probe's floor: rate at %d%%", fg, Math.round(factor * 100));
    }
    String probe = Double.isNaN(lastMean)
        ? String.format(Locale.ROOT, "no probe reading in the last second (its floor %.2f ms)", floor)
        : String.format(Locale.ROOT, "probe mean %.2f ms = %sx its floor %.2f ms", lastMean, ratio(lastMean / floor), floor);
    if (throttled) {
      // Held from when the probe passed throttleRatio at the minimum rate until it is back within the
      // tolerance: in between, the current ratio is below throttleRatio and the sentence must still be true.
      return String.format(Locale.ROOT, "%s, %s: waiting (it passed %sx at the minimum rate, %d%%; the job goes on once it is back "
          + "within %sx)", fg, probe, ratio(settings.throttleRatio()), Math.round(settings.minRateFactor() * 100), ratio(settings.tolerance()));
    }
    return String.format(Locale.ROOT, "%s, %s: rate at %d%%", fg, probe, Math.round(factor * 100));
  }

  /**
   * A ratio with one decimal, or two where one would make it look equal to a limit it is above or below
   * (the tolerance, or the hard limit: 3.96x is not "4.0x" beside "rate at 2%").
   */
  String ratio(double r) {
    String one = String.format(Locale.ROOT, "%.1f", r);
    for (double limit : new double[] {settings.tolerance(), settings.throttleRatio()}) {
      if (r != limit && one.equals(String.format(Locale.ROOT, "%.1f", limit))) return String.format(Locale.ROOT, "%.2f", r);
    }
    return one;
  }

  public double factor() {
    return factor;
  }

  /** The probe's learnt floor in milliseconds (NaN before the first step with readings). */
  public double floorMs() {
    return floor;
  }

  public boolean foregroundPresent() {
    return present;
  }
}
