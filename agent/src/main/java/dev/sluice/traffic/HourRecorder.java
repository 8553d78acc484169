package dev.sluice.traffic;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Folds samples into hourly sums: the source's transactions (a cumulative counter, sampled every
 * few seconds), its foreground sessions and probe latency (ten times a second), and each job's
 * progress and state (once a second). {@link #drain} hands over what accumulated since the last
 * drain, as additive {@link TrafficHour} and {@link JobHour} rows, for the ledger to add up.
 *
 * <p>A sample's interval is charged to the hour its end falls in. An interval longer than
 * {@value #MAX_GAP_SECONDS} s is a gap (the agent was stopped or stalled): nothing is charged for it.
 * A counter that went down (statistics reset, another database server) starts afresh.
 * Pure: the caller passes the time; callers synchronise.
 */
public final class HourRecorder {
  static final long MAX_GAP_SECONDS = 60;

  /**
   * One job at one instant, as this agent sees it.
   *
   * @param rowsWritten rows this agent has written for the job so far (cumulative)
   * @param writeSeconds time spent writing them (cumulative)
   * @param active the job has segments left to copy (copying state)
   * @param waitCode why it is held ({@code paused}, {@code window}, {@code breaker}, {@code health},
   *     {@code foreground}), null while it may run
   * @param rateFactor the headroom factor in force (1 = full budget)
   * @param allowedRate the rows/s allowed now (budget times factor); NaN when unpaced
   * @param lagSeconds the age of the oldest captured change not applied yet; NaN without capture
   */
  public record JobTick(long rowsWritten, double writeSeconds, boolean active, String waitCode, double rateFactor, double allowedRate,
      double lagSeconds) {}

  private final String source;
  private final Map<Instant, TrafficHour> traffic = new LinkedHashMap<>();
  private final Map<String, Map<Instant, JobHour>> jobs = new LinkedHashMap<>();
  private final Map<String, Last> lastJob = new HashMap<>();
  private Instant lastXactAt;
  private long lastXacts = -1;

  private record Last(Instant at, long rows, double writeSeconds) {}

  public HourRecorder(String source) {
    this.source = source;
  }

  /** The source's {@code xact_commit + xact_rollback} at {@code at}. */
  public void xacts(Instant at, long counter) {
    if (lastXactAt != null && lastXacts >= 0) {
      double dt = seconds(lastXactAt, at);
      if (dt > 0 && dt <= MAX_GAP_SECONDS) {
        double n = counter >= lastXacts ? counter - lastXacts : 0;
        double covered = counter >= lastXacts ? dt : 0;
        add(at, new TrafficHour(source, HourOfWeek.hourStart(at), dt, n, covered, 0, 0, 0, 0, 0, 0));
      }
    }
    lastXactAt = at;
    lastXacts = counter;
  }

  /** Other sessions inside a transaction at {@code at}. */
  public void foreground(Instant at, double busy) {
    add(at, new TrafficHour(source, HourOfWeek.hourStart(at), 0, 0, 0, busy, 1, busy, 0, 0, 0));
  }

  /** The foreground probe's latency in ms at {@code at}. */
  public void probe(Instant at, double ms) {
    add(at, new TrafficHour(source, HourOfWeek.hourStart(at), 0, 0, 0, 0, 0, 0, ms, 1, ms));
  }

  public void job(String job, Instant at, JobTick t) {
    Last last = lastJob.put(job, new Last(at, t.rowsWritten(), t.writeSeconds()));
    if (last == null) return;
    double dt = seconds(last.at(), at);
    if (dt <= 0 || dt > MAX_GAP_SECONDS) return;
    long rows = Math.max(0, t.rowsWritten() - last.rows());
    double write = Math.max(0, t.writeSeconds() - last.writeSeconds());
    double run = 0;
    double slowed = 0;
    Map<String, Double> wait = Map.of();
    double allowedSum = 0;
    long allowedN = 0;
    if (t.waitCode() != null) {
      wait = Map.of(t.waitCode(), dt);
    } else if (t.active()) {
      run = dt;
      if (t.rateFactor() < 1.0) slowed = dt;
      if (!Double.isNaN(t.allowedRate())) {
        allowedSum = t.allowedRate();
        allowedN = 1;
      }
    }
    double lag = Double.isNaN(t.lagSeconds()) ? 0 : t.lagSeconds();
    Instant hour = HourOfWeek.hourStart(at);
    JobHour h = new JobHour(job, hour, rows, write, run, slowed, wait, allowedSum, allowedN, lag);
    jobs.computeIfAbsent(job, k -> new LinkedHashMap<>()).merge(hour, h, JobHour::plus);
  }

  /** Forgets a job's last tick (its agent stopped running it), so the next tick starts a new interval. */
  public void forget(String job) {
    lastJob.remove(job);
  }

  /** What accumulated since the last drain. */
  public record Drained(List<TrafficHour> traffic, List<JobHour> jobs) {
    public boolean isEmpty() {
      return traffic.isEmpty() && jobs.isEmpty();
    }
  }

  public Drained drain() {
    List<TrafficHour> t = new ArrayList<>(traffic.values());
    List<JobHour> j = new ArrayList<>();
    jobs.values().forEach(m -> j.addAll(m.values()));
    traffic.clear();
    jobs.clear();
    return new Drained(t, j);
  }

  private void add(Instant at, TrafficHour h) {
    traffic.merge(HourOfWeek.hourStart(at), h, TrafficHour::plus);
  }

  private static double seconds(Instant from, Instant to) {
    return Duration.between(from, to).toNanos() / 1e9;
  }
}
