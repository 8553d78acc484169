package dev.sluice.traffic;

import dev.sluice.config.ScheduleConfig;
import dev.sluice.pace.Schedule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Proposes, for one job, the windows and the rate to copy at, from the learned week and the job's
 * measured cost per row, and says why in sentences:
 *
 * <ol>
 *   <li><b>Quiet hours.</b> The busiest hour of the week sets the scale; an hour whose transactions/s
 *       stay at or under {@value #QUIET_SHARE} of it is quiet. Runs of at least {@value #MIN_WINDOW_HOURS}
 *       quiet hours become the windows ({@link QuietWindows}). Hours never measured are not proposed.
 *       A source under {@value #IDLE_XACTS} transactions/s even at its busiest needs no window.
 *   <li><b>Rate.</b> What the foreground control let the job copy at in the quiet hours, when it has
 *       run there: the database's own verdict. Else from the cost per row {@code c} (ms of database
 *       time per row written, measured): the quiet hours leave {@code room = busiest hour's sessions
 *       in a transaction - quiet hours' busiest}, of which Sluice takes {@value #HEADROOM_SHARE}
 *       (at least half a session, at most {@code concurrency.max}): {@code rate = sessions * 1000 / c}.
 *       Else the configured rate stays.
 *   <li><b>When.</b> The finish at that rate in those windows ({@link FinishForecast}).
 * </ol>
 *
 * With less than a day of data the advice says it is a guess. Pure.
 */
public final class Advisor {
  static final double QUIET_SHARE = 0.3;
  static final int MIN_WINDOW_HOURS = 2;
  static final double HEADROOM_SHARE = 0.5;
  static final double IDLE_XACTS = 1.0;

  /** What the advisor needs of a job. {@code configuredRate} null: unpaced. */
  public record JobInput(String job, long remainingRows, Double configuredRate, int concurrencyMax, Schedule schedule) {}

  /**
   * The proposal. {@code windows} null: no proposal (keep the configured schedule); empty: no window
   * needed (always allowed). {@code rowsPerSecond} null: no proposal (keep the configured pace).
   */
  public record Advice(String job, boolean enoughData, double hoursOfData, List<ScheduleConfig.Window> windows, Double rowsPerSecond,
      int openHoursPerWeek, FinishForecast.Estimate finish, List<String> reasoning) {}

  private Advisor() {}

  public static Advice advise(LoadProfile p, JobInput job, Instant now) {
    List<String> why = new ArrayList<>();
    double hours = p.dataSeconds() / 3600;
    if (!p.enoughData()) {
      why.add(String.format(Locale.ROOT, "Only %.1f h of traffic recorded (less than a day): this advice is a guess. Leave an agent "
          + "running against this source (it samples the users' traffic ten times a second at no cost to them) and ask again "
          + "after a day, better a week.", hours));
    } else {
      why.add(String.format(Locale.ROOT, "%.0f h of traffic recorded over the last %d weeks (older weeks count half every %.0f weeks).",
          hours, LoadProfile.MAX_WEEKS, LoadProfile.HALF_LIFE_WEEKS));
    }
    int peak = -1;
    int quietest = -1;
    int measured = 0;
    for (int c = 0; c < HourOfWeek.HOURS; c++) {
      double x = p.cell(c).xactsPerSecond();
      if (Double.isNaN(x)) continue;
      measured++;
      if (peak < 0 || x > p.cell(peak).xactsPerSecond() * (1 + 1e-9)) peak = c; // the first of equals
      if (quietest < 0 || x < p.cell(quietest).xactsPerSecond() * (1 - 1e-9)) quietest = c;
    }
    String zone = p.zone().getId();
    if (peak < 0) {
      why.add("No traffic of this source has been recorded yet: no windows to propose; the configured schedule stays.");
      Double rate = rateFromCost(p, job, why, Double.NaN, Double.NaN);
      return finish(job, null, rate, p, now, why, hours);
    }
    LoadProfile.Cell pc = p.cell(peak);
    why.add(String.format(Locale.ROOT, "Busiest hour: %s %s, %.0f transactions/s, %.1f sessions in a transaction on average. "
        + "Quietest: %s, %.0f transactions/s.", HourOfWeek.label(peak), zone, pc.xactsPerSecond(), nz(pc.busy()),
        HourOfWeek.label(quietest), p.cell(quietest).xactsPerSecond()));
    if (measured < HourOfWeek.HOURS) {
      why.add((HourOfWeek.HOURS - measured) + " of the week's 168 hours have not been measured yet; no window is proposed in them.");
    }
    List<ScheduleConfig.Window> windows;
    boolean[] quiet = new boolean[HourOfWeek.HOURS];
    if (pc.xactsPerSecond() < IDLE_XACTS && measured == HourOfWeek.HOURS) {
      windows = List.of();
      why.add(String.format(Locale.ROOT, "The source is nearly idle all week (under %.0f transaction/s even at its busiest): no "
          + "window is needed; the foreground control still slows the job whenever users appear.", IDLE_XACTS));
      java.util.Arrays.fill(quiet, true);
    } else {
      double limit = QUIET_SHARE * pc.xactsPerSecond();
      for (int c = 0; c < HourOfWeek.HOURS; c++) {
        double x = p.cell(c).xactsPerSecond();
        quiet[c] = !Double.isNaN(x) && x <= limit;
      }
      windows = QuietWindows.of(quiet, MIN_WINDOW_HOURS);
      if (windows.isEmpty()) {
        why.add(String.format(Locale.ROOT, "No run of %d quiet hours (at most %.0f transactions/s, %.0f%% of the busiest hour) was "
            + "found: no window is proposed; copy slowly around the clock and let the foreground control pace it.",
            MIN_WINDOW_HOURS, limit, QUIET_SHARE * 100));
      } else {
        why.add(String.format(Locale.ROOT, "Quiet hours (at most %.0f transactions/s, %.0f%% of the busiest hour), in runs of at "
            + "least %d h: %s = %d h a week.", limit, QUIET_SHARE * 100, MIN_WINDOW_HOURS,
            new Schedule(windows, p.zone()).describe(), QuietWindows.hoursPerWeek(windows, p.zone())));
      }
    }
    double quietBusy = Double.NaN;
    double allowedSum = 0;
    int allowedHours = 0;
    Schedule proposed = windows.isEmpty() ? Schedule.ALWAYS : new Schedule(windows, p.zone());
    for (int c = 0; c < HourOfWeek.HOURS; c++) {
      if (!proposed.allowsLocal(HourOfWeek.day(c), HourOfWeek.hourOfDay(c) * 60)) continue;
      LoadProfile.Cell cell = p.cell(c);
      if (!Double.isNaN(cell.busy())) quietBusy = Double.isNaN(quietBusy) ? cell.busy() : Math.max(quietBusy, cell.busy());
      if (!Double.isNaN(cell.allowedRate())) {
        allowedSum += cell.allowedRate();
        allowedHours++;
      }
    }
    Double rate;
    if (allowedHours > 0) {
      rate = round2(allowedSum / allowedHours);
      why.add(String.format(Locale.ROOT, "In those hours the foreground control let Sluice copy at %,.0f rows/s on average (%d hours "
          + "of the week with Sluice running): proposed rate %,.0f rows/s.", allowedSum / allowedHours, allowedHours, rate));
    } else {
      rate = rateFromCost(p, job, why, pc.busy(), quietBusy);
    }
    return finish(job, windows, rate, p, now, why, hours);
  }

  /** The rate the cost per row allows in the room the quiet hours leave; null (with a sentence) when unmeasured. */
  private static Double rateFromCost(LoadProfile p, JobInput job, List<String> why, double peakBusy, double quietBusy) {
    double cost = p.costPerRowMs(job.job());
    if (Double.isNaN(cost)) {
      why.add(job.configuredRate() == null
          ? "The job's cost per row is not measured yet (it has not copied): no rate is proposed; it stays unpaced, slowed by the "
              + "foreground control whenever users are there."
          : String.format(Locale.ROOT, "The job's cost per row is not measured yet (it has not copied): the configured %,.0f rows/s stays.",
              job.configuredRate()));
      return null;
    }
    double room = Double.isNaN(peakBusy) || Double.isNaN(quietBusy) ? 1 : Math.max(0, peakBusy - quietBusy);
    double sessions = Math.min(job.concurrencyMax(), Math.max(0.5, HEADROOM_SHARE * room));
    double rate = round2(sessions * 1000 / cost);
    why.add(String.format(Locale.ROOT, "Measured cost: %.3f ms of database time per row written. The quiet hours leave room for %.1f "
        + "sessions in a transaction (the busiest hour's %.1f minus the quiet hours' %.1f); Sluice takes %.1f of them "
        + "(%.0f%%, at least half a session, at most concurrency.max %d): %,.0f rows/s.", cost, room, nz(peakBusy), nz(quietBusy),
        sessions, HEADROOM_SHARE * 100, job.concurrencyMax(), rate));
    return rate;
  }

  private static Advice finish(JobInput job, List<ScheduleConfig.Window> windows, Double rate, LoadProfile p, Instant now, List<String> why,
      double hours) {
    Schedule s = windows == null ? job.schedule() : windows.isEmpty() ? Schedule.ALWAYS : new Schedule(windows, p.zone());
    Double r = rate != null ? rate : job.configuredRate();
    int open = s.alwaysOpen() ? HourOfWeek.HOURS : QuietWindows.hoursPerWeek(s.windows(), s.zone());
    FinishForecast.Estimate est = null;
    if (r != null && job.remainingRows() > 0) {
      est = FinishForecast.estimate(job.remainingRows(), now, s, h -> FinishForecast.Rates.of(r), null);
      if (est.known()) {
        why.add(String.format(Locale.ROOT, "At %,.0f rows/s for %d h a week, the %,d rows left take %s of window time: finished around "
            + "%s.", r, open, job.remainingRows(), Durations.words(job.remainingRows() / r), FinishForecast.local(est.finish(), s.zone())));
      }
    } else if (job.remainingRows() <= 0) {
      why.add("Nothing is left to copy.");
    }
    return new Advice(job.job(), p.enoughData(), hours, windows, rate, open, est, why);
  }

  private static double round2(double v) {
    if (v <= 0 || Double.isNaN(v)) return v;
    double scale = Math.pow(10, Math.floor(Math.log10(v)) - 1);
    return Math.round(v / scale) * scale;
  }

  private static double nz(double v) {
    return Double.isNaN(v) ? 0 : v;
  }
}
