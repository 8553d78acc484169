package dev.sluice.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.pace.Schedule;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdvisorTest {
  static final Instant MONDAY = Instant.parse("2024-01-01T00:00:00Z");
  static final Instant NOW = MONDAY.plus(Duration.ofDays(14));

  /** Two weeks of an office database: weekdays 08-18 busy (500 tx/s, 8 sessions), else 10 tx/s and 0.5 sessions; weekends 20 tx/s. */
  static List<TrafficHour> officeWeeks() {
    List<TrafficHour> out = new ArrayList<>();
    for (int h = 0; h < 14 * 24; h++) {
      Instant at = MONDAY.plus(Duration.ofHours(h));
      int how = HourOfWeek.of(at, ZoneOffset.UTC);
      boolean weekend = how >= 5 * 24;
      boolean office = !weekend && how % 24 >= 8 && how % 24 < 18;
      out.add(LoadProfileTest.hour(at, office ? 500 : weekend ? 20 : 10, office ? 8 : 0.5));
    }
    return out;
  }

  static Advisor.JobInput job(Double rate) {
    return new Advisor.JobInput("orders", 100_000_000, rate, 4, Schedule.ALWAYS);
  }

  @Test
  void proposesTheQuietHoursAsWindowsCrossingMidnightAndGroupedByDay() {
    LoadProfile p = LoadProfile.of(officeWeeks(), List.of(), java.time.ZoneId.of("UTC"), NOW);
    Advisor.Advice a = Advisor.advise(p, job(null), NOW);
    assertTrue(a.enoughData());
    String windows = new Schedule(a.windows(), java.time.ZoneId.of("UTC")).describe();
    assertEquals("mon 00:00-08:00; mon,tue,wed,thu 18:00-08:00; fri 18:00-24:00; sat,sun 00:00-24:00 UTC", windows);
    assertEquals(5 * 14 + 48, a.openHoursPerWeek());
    assertTrue(a.reasoning().get(1).startsWith("Busiest hour: mon 08:00 UTC, 500 transactions/s"), a.reasoning().get(1));
    assertNull(a.rowsPerSecond(), "no cost measured and no rate configured: no rate is proposed");
    assertTrue(String.join("\n", a.reasoning()).contains("not measured yet"));
  }

  @Test
  void theRateFollowsTheMeasuredCostPerRowInTheRoomTheQuietHoursLeave() {
    List<JobHour> jobHours = List.of(new JobHour("orders", MONDAY.plus(Duration.ofHours(13 * 24 + 2)), 1_000_000, 20, 600, 0, Map.of(),
        0, 0, 0)); // 0.02 ms a row
    LoadProfile p = LoadProfile.of(officeWeeks(), jobHours, ZoneOffset.UTC, NOW);
    Advisor.Advice a = Advisor.advise(p, job(5000.0), NOW);
    // room = 8 - 0.5 = 7.5 sessions; half of it, capped at concurrency.max 4 -> 3.75 sessions / 0.02 ms = 187,500 -> 190,000 (2 digits)
    assertEquals(190_000.0, a.rowsPerSecond(), 1e-6);
    assertNotNull(a.finish());
    String all = String.join("\n", a.reasoning());
    assertTrue(all.contains("Measured cost: 0.020 ms"), all);
    assertTrue(all.contains("finished around"), all);
  }

  @Test
  void whatTheForegroundControlAllowedInQuietHoursWins() {
    List<JobHour> jobHours = new ArrayList<>();
    for (int h = 0; h < 4; h++) {
      jobHours.add(new JobHour("orders", MONDAY.plus(Duration.ofHours(7 * 24 + h)), 36_000_000, 100, 3600, 0, Map.of(), 12_000 * 100.0,
          100, 0));
    }
    LoadProfile p = LoadProfile.of(officeWeeks(), jobHours, ZoneOffset.UTC, NOW);
    Advisor.Advice a = Advisor.advise(p, job(null), NOW);
    assertEquals(12_000.0, a.rowsPerSecond(), 1e-6);
    assertTrue(a.reasoning().stream().anyMatch(s -> s.contains("foreground control let Sluice copy at 12,000 rows/s")));
  }

  @Test
  void withLessThanADayItSaysItIsAGuess() {
    List<TrafficHour> few = officeWeeks().subList(0, 5);
    Advisor.Advice a = Advisor.advise(LoadProfile.of(few, List.of(), ZoneOffset.UTC, MONDAY.plus(Duration.ofHours(5))), job(1000.0),
        MONDAY.plus(Duration.ofHours(5)));
    assertFalse(a.enoughData());
    assertTrue(a.reasoning().get(0).startsWith("Only 5.0 h of traffic recorded (less than a day): this advice is a guess."),
        a.reasoning().get(0));
    assertTrue(a.reasoning().stream().anyMatch(s -> s.contains("163 of the week's 168 hours have not been measured")));
  }

  @Test
  void noDataAtAllKeepsTheConfiguredScheduleAndRate() {
    Advisor.Advice a = Advisor.advise(LoadProfile.of(List.of(), List.of(), ZoneOffset.UTC, NOW), job(2000.0), NOW);
    assertNull(a.windows());
    assertNull(a.rowsPerSecond());
    assertTrue(a.reasoning().get(1).startsWith("No traffic of this source has been recorded yet"));
    assertNotNull(a.finish(), "still says when the configured rate would finish");
  }

  @Test
  void anIdleSourceNeedsNoWindow() {
    List<TrafficHour> idle = new ArrayList<>();
    for (int h = 0; h < 168; h++) idle.add(LoadProfileTest.hour(MONDAY.plus(Duration.ofHours(h)), 0.2, 0));
    Advisor.Advice a = Advisor.advise(LoadProfile.of(idle, List.of(), ZoneOffset.UTC, NOW), job(null), NOW);
    assertEquals(List.of(), a.windows());
    assertEquals(168, a.openHoursPerWeek());
  }
}
