package dev.sluice.traffic;

import dev.sluice.config.ScheduleConfig;
import dev.sluice.pace.Schedule;
import java.time.DayOfWeek;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a set of quiet hours of the week into {@code schedule.windows}: per day, each run of quiet
 * hours of at least {@code minHours}; a run reaching midnight joins the next day's run from midnight
 * into one window that crosses midnight (as {@code fri 22:00-06:00}), unless either is a whole day;
 * windows with the same hours on several days become one window with those days. Pure.
 */
final class QuietWindows {
  private QuietWindows() {}

  private record Run(int day, int start, int end) {} // hours; end may exceed 24 when it crosses midnight

  static List<ScheduleConfig.Window> of(boolean[] quiet, int minHours) {
    List<Run> perDay = new ArrayList<>();
    for (int d = 0; d < 7; d++) {
      int h = 0;
      while (h < 24) {
        if (!quiet[d * 24 + h]) {
          h++;
          continue;
        }
        int s = h;
        while (h < 24 && quiet[d * 24 + h]) h++;
        perDay.add(new Run(d, s, h));
      }
    }
    List<Run> merged = new ArrayList<>();
    boolean[] absorbed = new boolean[perDay.size()];
    for (int i = 0; i < perDay.size(); i++) {
      if (absorbed[i]) continue;
      Run r = perDay.get(i);
      if (r.end() == 24 && r.start() > 0) {
        int next = (r.day() + 1) % 7;
        for (int k = 0; k < perDay.size(); k++) {
          Run n = perDay.get(k);
          // A run from midnight that is absorbed must end before this one starts (a window spans < 24 h).
          if (k != i && !absorbed[k] && n.day() == next && n.start() == 0 && n.end() < 24 && n.end() <= r.start()) {
            absorbed[k] = true;
            r = new Run(r.day(), r.start(), 24 + n.end());
            break;
          }
        }
      }
      merged.add(r);
    }
    // Runs absorbed into an earlier-listed run were skipped; a run absorbed later (sunday into monday) is removed here.
    List<Run> kept = new ArrayList<>();
    for (int i = 0; i < merged.size(); i++) {
      Run r = merged.get(i);
      boolean gone = false;
      for (int k = 0; k < perDay.size(); k++) if (absorbed[k] && perDay.get(k).equals(r)) gone = true;
      if (!gone && r.end() - r.start() >= minHours) kept.add(r);
    }
    Map<String, Set<DayOfWeek>> byHours = new LinkedHashMap<>();
    kept.sort((a, b) -> a.start() != b.start() ? Integer.compare(a.start(), b.start()) : Integer.compare(a.day(), b.day()));
    for (Run r : kept) byHours.computeIfAbsent(r.start() + "-" + r.end(), k -> EnumSet.noneOf(DayOfWeek.class)).add(DayOfWeek.of(r.day() + 1));
    List<ScheduleConfig.Window> out = new ArrayList<>();
    byHours.forEach((k, days) -> {
      String[] se = k.split("-");
      int s = Integer.parseInt(se[0]);
      int e = Integer.parseInt(se[1]);
      out.add(new ScheduleConfig.Window(days, s * 60, e > 24 ? (e - 24) * 60 : e * 60));
    });
    out.sort((a, b) -> {
      int da = a.days().stream().mapToInt(DayOfWeek::getValue).min().orElse(8);
      int db = b.days().stream().mapToInt(DayOfWeek::getValue).min().orElse(8);
      return da != db ? Integer.compare(da, db) : Integer.compare(a.startMinute(), b.startMinute());
    });
    return out;
  }

  /** Hours a week the windows are open. */
  static int hoursPerWeek(List<ScheduleConfig.Window> windows, java.time.ZoneId zone) {
    Schedule s = new Schedule(windows, zone);
    int n = 0;
    for (int h = 0; h < HourOfWeek.HOURS; h++) if (s.allowsLocal(HourOfWeek.day(h), HourOfWeek.hourOfDay(h) * 60)) n++;
    return n;
  }
}
