package dev.sluice.config;

import java.time.DayOfWeek;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A job's {@code schedule}: the windows (days of the week and a span of minutes) in one time zone
 * when it may run. No windows ({@link #ALWAYS}, the default): always open. What the windows mean is
 * pace.Schedule's.
 */
public record ScheduleConfig(List<Window> windows, ZoneId zone) {
  public static final String DEFAULT_TIME_ZONE = "UTC";
  public static final ScheduleConfig ALWAYS = new ScheduleConfig(List.of(), ZoneId.of(DEFAULT_TIME_ZONE));

  public ScheduleConfig {
    windows = List.copyOf(windows);
  }

  /** Days and a span {@code [startMinute, endMinute)} of minutes since midnight; end 1440 is midnight. */
  public record Window(Set<DayOfWeek> days, int startMinute, int endMinute) {
    public Window {
      days = days.isEmpty() ? EnumSet.noneOf(DayOfWeek.class) : EnumSet.copyOf(days);
      if (startMinute < 0 || startMinute >= 1440 || endMinute < 0 || endMinute > 1440) {
        throw new IllegalArgumentException("minutes must be within a day");
      }
    }
  }
}
