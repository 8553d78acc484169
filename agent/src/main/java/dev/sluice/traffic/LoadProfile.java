package dev.sluice.traffic;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The learned week: for each of the {@value HourOfWeek#HOURS} hours of the week (local time of a
 * zone), the source's foreground activity and what Sluice's jobs were allowed and achieved, from the
 * hourly sums the agents recorded in the ledger.
 *
 * <p>Older weeks count less: an hour {@code a} seconds old weighs {@code 0.5^(a / halfLife)} with a
 * half-life of {@value #HALF_LIFE_WEEKS} weeks, and hours older than {@value #MAX_WEEKS} weeks are
 * left out (the ledger keeps no more). So a change of habits (a new batch job at 02:00) shows within
 * a week or two, and one odd week does not rule the profile.
 *
 * <p>A job's achieved rate in an hour of the week is its rows over its run time there (time it was
 * allowed to copy: slowing by the foreground control counts in, holds do not), with the slowest and
 * fastest whole hour seen as its range. A cell needs {@value #MIN_RUN_SECONDS} s of run time before
 * it is trusted. Pure.
 */
public final class LoadProfile {
  public static final int MAX_WEEKS = 8;
  public static final double HALF_LIFE_WEEKS = 2;
  /** Run time an hour of the week needs before a job's rate there counts as history. */
  public static final double MIN_RUN_SECONDS = 600;
  /** Data the profile needs before it is more than a guess. */
  public static final Duration ENOUGH = Duration.ofDays(1);
  private static final double WEEK_SECONDS = 7 * 86400.0;

  /** One hour of the week: the source's users, and Sluice. NaN where nothing was measured. */
  public record Cell(int hourOfWeek, double xactsPerSecond, double busy, double busyMax, double probeMs, double allowedRate,
      double achievedRate, int hours, double seconds) {
    public boolean measured() {
      return seconds > 0 || !Double.isNaN(busy);
    }
  }

  /** One job's rate in one hour of the week: the weighted mean, the slowest and fastest hour; NaN without history. */
  public record JobCell(int hourOfWeek, double rate, double low, double high, double runSeconds, int hours) {
    public boolean trusted() {
      return runSeconds >= MIN_RUN_SECONDS && !Double.isNaN(rate);
    }
  }

  private final ZoneId zone;
  private final Cell[] cells = new Cell[HourOfWeek.HOURS];
  private final Map<String, JobCell[]> jobs = new HashMap<>();
  private final Map<String, double[]> cost = new HashMap<>();
  private final double dataSeconds;
  private final int hoursWithData;

  private LoadProfile(ZoneId zone, double dataSeconds, int hoursWithData) {
    this.zone = zone;
    this.dataSeconds = dataSeconds;
    this.hoursWithData = hoursWithData;
  }

  public static LoadProfile of(Collection<TrafficHour> traffic, Collection<JobHour> jobHours, ZoneId zone, Instant now) {
    double[][] t = new double[HourOfWeek.HOURS][10];
    Set<Instant> hoursSeen = new TreeSet<>();
    double data = 0;
    int[] hourCount = new int[HourOfWeek.HOURS];
    Map<Integer, Set<Instant>> hoursByCell = new HashMap<>();
    for (TrafficHour h : traffic) {
      double w = weight(h.hour(), now);
      if (w == 0 || h.isEmpty()) continue;
      int c = HourOfWeek.of(h.hour(), zone);
      double[] a = t[c];
      a[0] += w * h.xacts();
      a[1] += w * h.xactSeconds();
      a[2] += w * h.busySum();
      a[3] += w * h.busyN();
      a[4] = Math.max(a[4], h.busyMax());
      a[5] += w * h.probeSum();
      a[6] += w * h.probeN();
      a[7] += h.seconds();
      data += h.seconds();
      hoursSeen.add(h.hour());
      if (hoursByCell.computeIfAbsent(c, k -> new TreeSet<>()).add(h.hour())) hourCount[c]++;
    }
    Map<String, double[][]> perJob = new HashMap<>();
    double[][] sluice = new double[HourOfWeek.HOURS][4];
    LoadProfile p = new LoadProfile(zone, data, hoursSeen.size());
    for (JobHour h : jobHours) {
      double w = weight(h.hour(), now);
      if (w == 0) continue;
      int c = HourOfWeek.of(h.hour(), zone);
      sluice[c][0] += w * h.allowedSum();
      sluice[c][1] += w * h.allowedN();
      sluice[c][2] += w * h.rows();
      sluice[c][3] += w * h.runSeconds();
      double[] k = p.cost.computeIfAbsent(h.job(), x -> new double[2]);
      k[0] += w * h.writeSeconds();
      k[1] += w * h.rows();
      double[][] j = perJob.computeIfAbsent(h.job(), x -> newJobArrays());
      double[] a = j[c];
      a[0] += w * h.rows();
      a[1] += w * h.runSeconds();
      a[4] += h.runSeconds();
      if (h.runSeconds() >= MIN_RUN_SECONDS) {
        double r = h.achievedRate();
        a[2] = Double.isNaN(a[2]) ? r : Math.min(a[2], r);
        a[3] = Double.isNaN(a[3]) ? r : Math.max(a[3], r);
      }
      if (h.runSeconds() > 0) a[5]++;
    }
    for (int c = 0; c < HourOfWeek.HOURS; c++) {
      double[] a = t[c];
      double[] s = sluice[c];
      p.cells[c] = new Cell(c, div(a[0], a[1]), div(a[2], a[3]), a[3] > 0 ? a[4] : Double.NaN, div(a[5], a[6]), div(s[0], s[1]),
          div(s[2], s[3]), hourCount[c], a[7]);
    }
    perJob.forEach((job, arr) -> {
      JobCell[] out = new JobCell[HourOfWeek.HOURS];
      for (int c = 0; c < HourOfWeek.HOURS; c++) {
        double[] a = arr[c];
        double mid = div(a[0], a[1]);
        // Without a whole hour to judge by, the range is the mean itself.
        out[c] = new JobCell(c, mid, Double.isNaN(a[2]) ? mid : Math.min(a[2], mid), Double.isNaN(a[3]) ? mid : Math.max(a[3], mid),
            a[4], (int) a[5]);
      }
      p.jobs.put(job, out);
    });
    return p;
  }

  private static double[][] newJobArrays() {
    double[][] j = new double[HourOfWeek.HOURS][6];
    for (double[] a : j) {
      a[2] = Double.NaN;
      a[3] = Double.NaN;
    }
    return j;
  }

  /** The weight of an hour's data at {@code now}: 0 beyond {@value #MAX_WEEKS} weeks. */
  static double weight(Instant hour, Instant now) {
    double age = Math.max(0, Duration.between(hour, now).toSeconds());
    if (age > MAX_WEEKS * WEEK_SECONDS) return 0;
    return Math.pow(0.5, age / (HALF_LIFE_WEEKS * WEEK_SECONDS));
  }

  private static double div(double a, double b) {
    return b <= 0 ? Double.NaN : a / b;
  }

  public ZoneId zone() {
    return zone;
  }

  public Cell cell(int hourOfWeek) {
    return cells[hourOfWeek];
  }

  /** A job's cells, or null when it has no history. */
  public JobCell[] job(String name) {
    return jobs.get(name);
  }

  /** Measured database time per row written, in ms (write statements over rows); NaN before any. */
  public double costPerRowMs(String job) {
    double[] k = cost.get(job);
    return k == null || k[1] <= 0 || k[0] <= 0 ? Double.NaN : k[0] * 1000 / k[1];
  }

  /** Seconds of traffic samples within the last {@value #MAX_WEEKS} weeks. */
  public double dataSeconds() {
    return dataSeconds;
  }

  /** Distinct clock hours with samples. */
  public int hoursWithData() {
    return hoursWithData;
  }

  public boolean enoughData() {
    return dataSeconds >= ENOUGH.toSeconds();
  }
}
