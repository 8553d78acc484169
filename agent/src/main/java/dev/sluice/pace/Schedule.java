package dev.sluice.pace;

import dev.sluice.config.ScheduleConfig;
import dev.sluice.config.ScheduleConfig.Window;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * When a job may run: a list of windows (days of the week and a span of hours, in one time zone).
 * A window whose end is not after its start crosses midnight and belongs to the day it starts on
 * ({@code fri 22:00-06:00} runs Friday night into Saturday morning). No windows: always open.
 * Pure: the caller passes the instant.
 */
public final class Schedule {
  public static final Schedule ALWAYS = new Schedule(ScheduleConfig.ALWAYS);

  private final List<Window> windows;
  private final ZoneId zone;

  public Schedule(ScheduleConfig config) {
    this.windows = config.windows();
    this.zone = config.zone();
  }

  public Schedule(List<Window> windows, ZoneId zone) {
    this(new ScheduleConfig(windows, zone));
  }

  public boolean alwaysOpen() {
    return windows.isEmpty();
  }

  public List<Window> windows() {
    return windows;
  }

  public ZoneId zone() {
    return zone;
  }

  /** True when a window is open at {@code minuteOfDay} of {@code day}, local time in {@link #zone()}. */
  public boolean allowsLocal(DayOfWeek day, int minuteOfDay) {
    if (windows.isEmpty()) return true;
    for (Window w : windows) if (contains(w, day, minuteOfDay)) return true;
    return false;
  }

  public boolean allows(Instant now) {
    if (windows.isEmpty()) return true;
    ZonedDateTime z = now.atZone(zone);
    int minute = z.getHour() * 60 + z.getMinute();
    for (Window w : windows) if (contains(w, z.getDayOfWeek(), minute)) return true;
    return false;
  }

  /** The next instant at or after {@code now} when a window is open, or null if none within a week. */
  public Instant nextOpening(Instant now) {
    if (allows(now)) return now;
    LocalDate today = now.atZone(zone).toLocalDate();
    Instant best = null;
    for (int d = 0; d <= 7; d++) {
      LocalDate date = today.plusDays(d);
      for (Window w : windows) {
        if (!w.days().contains(date.getDayOfWeek())) continue;
        Instant start = date.atStartOfDay(zone).plusMinutes(w.startMinute()).toInstant();
        if (start.isAfter(now) && (best == null || start.isBefore(best))) best = start;
      }
    }
    return best;
  }

  /** Why the job is not running now, for an operator ("outside the time windows ..."). */
  public String reasonClosed(Instant now) {
    Instant next = nextOpening(now);
    return "outside the time windows (" + describe() + ")" + (next == null ? "" : "; next opens " + next.atZone(zone).toLocalDateTime()
        .toString().replace('T', ' ') + " " + zone.getId());
  }

  public String describe() {
    return windows.stream().map(Schedule::describe).collect(Collectors.joining("; ")) + " " + zone.getId();
  }

  private static boolean crossesMidnight(Window w) {
    return w.endMinute() <= w.startMinute();
  }

  static boolean contains(Window w, DayOfWeek day, int minute) {
    if (!crossesMidnight(w)) return w.days().contains(day) && minute >= w.startMinute() && minute < w.endMinute();
    return (w.days().contains(day) && minute >= w.startMinute()) || (w.days().contains(day.minus(1)) && minute < w.endMinute());
  }

  static String describe(Window w) {
    String d = w.days().size() == 7 ? "every day"
        : w.days().stream().map(x -> x.getDisplayName(TextStyle.SHORT, Locale.ENGLISH).toLowerCase()).collect(Collectors.joining(","));
    return d + " " + hhmm(w.startMinute()) + "-" + hhmm(w.endMinute());
  }

  static String hhmm(int minutes) {
    return String.format(Locale.ROOT, "%02d:%02d", minutes / 60, minutes % 60);
  }
}
