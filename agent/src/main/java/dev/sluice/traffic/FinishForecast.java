package dev.sluice.traffic;

import dev.sluice.pace.Schedule;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;

/**
 * When a job will finish, as a calendar time with a range: the remaining rows are laid over the
 * coming hours, each open minute of {@code schedule.windows} contributing the rate expected at that
 * hour of the week, closed minutes nothing:
 *
 * <pre>
 *   finish   = the first instant t with  sum over open minutes m in [now, t) of rate(hourOfWeek(m)) * 60 >= remaining
 *   earliest = the same with each hour's fastest rate, latest with its slowest
 * </pre>
 *
 * The rate of an hour of the week comes from a {@link RateModel}: the job's achieved rate there
 * once there is history, else the configured rate (see {@link JobRates}). The rest of the current
 * hour uses the live rate when there is one. A window that is closed now means the job finishes no
 * earlier than the next opening: no minute before it counts. Beyond {@value #HORIZON_DAYS} days the
 * finish is unknown. Pure.
 */
public final class FinishForecast {
  static final int HORIZON_DAYS = 730;

  /** Rows per second expected: mid, and the slowest and fastest plausible. */
  public record Rates(double mid, double low, double high) {
    public static Rates of(double r) {
      return new Rates(r, r, r);
    }

    double pick(int which) {
      return which == 0 ? mid : which < 0 ? low : high;
    }
  }

  /** The rates expected in an hour of the week; null or NaN: nothing expected (unknown). */
  public interface RateModel {
    Rates at(int hourOfWeek);
  }

  /**
   * The estimate. {@code finish} null: unknown ({@code note} says why). {@code windowOpensAt}: the
   * window is closed now and opens then (null while open or without windows).
   */
  public record Estimate(Instant finish, Instant earliest, Instant latest, Instant windowOpensAt, String note) {
    public boolean known() {
      return finish != null;
    }
  }

  private FinishForecast() {}

  public static Estimate estimate(long remaining, Instant now, Schedule schedule, RateModel model, Rates current) {
    Instant opens = schedule.allows(now) ? null : schedule.nextOpening(now);
    String closed = null;
    if (!schedule.alwaysOpen() && !schedule.allows(now)) {
      if (opens == null) return new Estimate(null, null, null, null, "no window of the schedule ever opens");
      closed = "window closed: next opens at " + opens + " (" + local(opens, schedule.zone()) + ")";
    }
    if (remaining <= 0) return new Estimate(now, now, now, opens, closed);
    long[] masks = openMasks(schedule);
    Instant mid = walk(remaining, now, schedule.zone(), masks, model, current, 0);
    if (mid == null) {
      return new Estimate(null, null, null, opens, (closed == null ? "" : closed + "; ")
          + "no rate to go by yet (unpaced and nothing copied), or more than " + HORIZON_DAYS + " days away");
    }
    Instant early = walk(remaining, now, schedule.zone(), masks, model, current, 1);
    Instant late = walk(remaining, now, schedule.zone(), masks, model, current, -1);
    // The slowest rates may be zero somewhere (no end in sight): the range's far end is then unknown.
    return new Estimate(mid, early == null || early.isAfter(mid) ? mid : early, late == null ? null : late.isBefore(mid) ? mid : late,
        opens, closed);
  }

  /** Per hour of the week (local time), a bit per minute: set when a window is open then. */
  static long[] openMasks(Schedule schedule) {
    long[] masks = new long[HourOfWeek.HOURS];
    for (int h = 0; h < HourOfWeek.HOURS; h++) {
      long m = 0;
      for (int minute = 0; minute < 60; minute++) {
        if (schedule.allowsLocal(HourOfWeek.day(h), HourOfWeek.hourOfDay(h) * 60 + minute)) m |= 1L << minute;
      }
      masks[h] = m;
    }
    return masks;
  }

  /**
   * Walks hour by hour; within the hour that finishes, minute by minute. Null past the horizon, or
   * once two weeks in a row added nothing: the rates and the windows repeat weekly, so every hour of
   * the week has then had its turn (a daylight-saving skip misses one hour in one week only), and
   * none ever will (this ends the slowest walk at once when some hours' slowest rate is zero, instead
   * of 17,520 hours to the horizon at every refresh).
   */
  private static Instant walk(long remaining, Instant now, ZoneId zone, long[] masks, RateModel model, Rates current, int which) {
    double left = remaining;
    Instant t = now;
    Instant horizon = now.plus(Duration.ofDays(HORIZON_DAYS));
    boolean first = true;
    int idleHours = 0;
    while (t.isBefore(horizon) && idleHours <= 2 * HourOfWeek.HOURS) {
      ZonedDateTime z = t.atZone(zone);
      int how = (z.getDayOfWeek().getValue() - 1) * 24 + z.getHour();
      Instant hourEnd = z.truncatedTo(ChronoUnit.HOURS).plusHours(1).toInstant();
      boolean live = first && current != null;
      double rate = rate(live ? current : model.at(how), which);
      first = false;
      idleHours = live || rate > 0 && masks[how] != 0 ? 0 : idleHours + 1;
      if (rate > 0) {
        int m0 = z.getMinute();
        double firstFraction = 1 - (z.getSecond() + z.getNano() / 1e9) / 60.0;
        long mask = masks[how];
        int open = Long.bitCount(mask >>> m0);
        double capacity = rate * 60 * (open - ((mask >>> m0) & 1L) * (1 - firstFraction));
        if (capacity >= left) return within(t, z, m0, firstFraction, mask, rate, left);
        left -= capacity;
      }
      t = hourEnd;
    }
    return null;
  }

  private static Instant within(Instant t, ZonedDateTime z, int m0, double firstFraction, long mask, double rate, double left) {
    Instant minuteStart = z.truncatedTo(ChronoUnit.MINUTES).toInstant();
    for (int minute = m0; minute < 60; minute++) {
      Instant start = minute == m0 ? t : minuteStart.plusSeconds(60L * (minute - m0));
      double span = minute == m0 ? 60 * firstFraction : 60;
      if ((mask >>> minute & 1L) == 0) continue;
      double cap = rate * span;
      if (cap >= left) return start.plusNanos((long) (left / rate * 1e9));
      left -= cap;
    }
    return minuteStart.plusSeconds(60L * (60 - m0)); // rounding: the hour's end
  }

  private static double rate(Rates r, int which) {
    if (r == null) return 0;
    double v = r.pick(which);
    return Double.isNaN(v) || v < 0 ? 0 : v;
  }

  static String local(Instant at, ZoneId zone) {
    return at.atZone(zone).toLocalDateTime().truncatedTo(ChronoUnit.MINUTES).toString().replace('T', ' ') + " " + zone.getId();
  }
}
