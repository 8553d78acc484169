package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ScheduleConfig;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleTest {
  private final ZoneId paris = ZoneId.of("Europe/Paris");
  // Weeknights 22:00-06:00 (crossing midnight) and Sunday 10:00-12:00, Paris time.
  private final Schedule s = new Schedule(new ScheduleConfig(List.of(
      new ScheduleConfig.Window(EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY), 22 * 60, 6 * 60),
      new ScheduleConfig.Window(EnumSet.of(DayOfWeek.SUNDAY), 10 * 60, 12 * 60)), paris));

  private Instant at(String local) {
    return java.time.LocalDateTime.parse(local).atZone(paris).toInstant();
  }

  @Test
  void windowsCrossingMidnightBelongToTheirStartDay() {
    assertTrue(s.allows(at("2026-11-23T23:00"))); // Monday night
    assertTrue(s.allows(at("2026-11-24T05:59"))); // Tuesday early morning, from Monday's window
    assertFalse(s.allows(at("2026-11-24T06:00")));
    assertTrue(s.allows(at("2026-11-28T05:00"))); // Saturday morning, from Friday's window
    assertFalse(s.allows(at("2026-11-28T22:30"))); // Saturday night: no window
    assertFalse(s.allows(at("2026-11-23T05:00"))); // Monday morning: Sunday has no night window
    assertTrue(s.allows(at("2026-11-29T11:00")));
  }

  @Test
  void theReasonSaysWhenTheNextWindowOpens() {
    Instant sat = at("2026-11-28T12:00");
    assertEquals(at("2026-11-29T10:00"), s.nextOpening(sat));
    String why = s.reasonClosed(sat);
    assertTrue(why.startsWith("outside the time windows (mon,tue,wed,thu,fri 22:00-06:00; sun 10:00-12:00 Europe/Paris)"), why);
    assertTrue(why.endsWith("next opens 2026-11-29 10:00 Europe/Paris"), why);
  }

  @Test
  void noWindowsMeansAlwaysOpen() {
    assertTrue(Schedule.ALWAYS.allows(Instant.EPOCH));
  }

  @Test
  void timeZoneIsHonoured() {
    Schedule utc = new Schedule(new ScheduleConfig(List.of(new ScheduleConfig.Window(EnumSet.allOf(DayOfWeek.class), 9 * 60, 17 * 60)), ZoneId.of("UTC")));
    assertTrue(utc.allows(Instant.parse("2026-11-25T16:59:00Z")));
    assertFalse(utc.allows(Instant.parse("2026-11-25T17:00:00Z")));
    assertTrue(utc.reasonClosed(Instant.parse("2026-11-25T17:00:00Z")).contains("every day 09:00-17:00"));
  }
}
