package dev.sluice.traffic;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * An hour of the week, {@code 0} (Monday 00:00-01:00) to {@value #HOURS - 1} (Sunday 23:00-24:00),
 * in local time of a zone. The profile is stored in absolute UTC hours and folded into hours of the
 * week only when read, so the same data serves jobs whose schedules use different zones.
 */
public final class HourOfWeek {
  public static final int HOURS = 168;
  static final String[] DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

  private HourOfWeek() {}

  public static int of(Instant at, ZoneId zone) {
    ZonedDateTime z = at.atZone(zone);
    return (z.getDayOfWeek().getValue() - 1) * 24 + z.getHour();
  }

  public static DayOfWeek day(int hourOfWeek) {
    return DayOfWeek.of(hourOfWeek / 24 + 1);
  }

  public static int hourOfDay(int hourOfWeek) {
    return hourOfWeek % 24;
  }

  /** The UTC hour an instant falls in (what the ledger stores). */
  public static Instant hourStart(Instant at) {
    return at.truncatedTo(ChronoUnit.HOURS);
  }

  /** {@code "tue 10:00"}. */
  public static String label(int hourOfWeek) {
    return DAYS[hourOfWeek / 24] + String.format(Locale.ROOT, " %02d:00", hourOfWeek % 24);
  }

  public static String dayName(DayOfWeek d) {
    return DAYS[d.getValue() - 1];
  }
}
