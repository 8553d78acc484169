package dev.sluice.traffic;

import dev.sluice.config.ScheduleConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.pace.Schedule;
import dev.sluice.traffic.FinishForecast.Rates;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class FinishForecastTest {
  static final Instant MONDAY_14H = Instant.parse("2024-01-01T14:00:00Z");
  static final Schedule NIGHTS = new Schedule(List.of(new ScheduleConfig.Window(EnumSet.allOf(DayOfWeek.class), 60, 300)), ZoneOffset.UTC);

  static FinishForecast.RateModel constant(double r) {
    return h -> Rates.of(r);
  }

  @Test
  void alwaysOpenIsRemainingOverRate() {
    FinishForecast.Estimate e = FinishForecast.estimate(3_600_000, MONDAY_14H, Schedule.ALWAYS, constant(1000), null);
    assertEquals(MONDAY_14H.plus(Duration.ofHours(1)), e.finish());
    assertNull(e.windowOpensAt());
    assertNull(e.note());
  }

  @Test
  void aJobAllowedFourHoursANightFinishesOnTheFourthNightNotInTwoHours() {
    // 4 nights x 4 h x 3600 s x 1000 rows/s; the old ETA said 16 h from now, i.e. tomorrow morning 06:00
    long rows = 4L * 4 * 3600 * 1000;
    FinishForecast.Estimate e = FinishForecast.estimate(rows, MONDAY_14H, NIGHTS, constant(1000), null);
    assertEquals(Instant.parse("2024-01-05T05:00:00Z"), e.finish(), "the end of Friday's window");
    assertEquals(Instant.parse("2024-01-02T01:00:00Z"), e.windowOpensAt());
    assertTrue(e.note().startsWith("window closed: next opens at 2024-01-02T01:00:00Z"), e.note());
  }

  @Test
  void aClosedWindowMeansNoEarlierThanItsOpeningEvenForOneRow() {
    FinishForecast.Estimate e = FinishForecast.estimate(1, MONDAY_14H, NIGHTS, constant(1000), Rates.of(50_000));
    assertFalse(e.finish().isBefore(e.windowOpensAt()));
    assertEquals(Instant.parse("2024-01-02T01:00:00.001Z"), e.finish());
  }

  @Test
  void eachHourOfTheWeekAtItsOwnRate() {
    // 14:00-15:00 at 1000/s, then 100/s: 3.6M rows in the first hour, 360k more at 100/s = one more hour
    FinishForecast.RateModel m = h -> Rates.of(h == HourOfWeek.of(MONDAY_14H, ZoneOffset.UTC) ? 1000 : 100);
    FinishForecast.Estimate e = FinishForecast.estimate(3_600_000 + 360_000, MONDAY_14H, Schedule.ALWAYS, m, null);
    assertEquals(MONDAY_14H.plus(Duration.ofHours(2)), e.finish());
  }

  @Test
  void theRestOfTheCurrentHourRunsAtTheLiveRateAndMidMinuteStartsCount() {
    Instant now = MONDAY_14H.plusSeconds(30 * 60 + 30); // 14:30:30
    // 29.5 min left in this hour at 2000/s = 3.54M rows, then 1000/s
    FinishForecast.Estimate e = FinishForecast.estimate(3_540_000 + 60_000, now, Schedule.ALWAYS, constant(1000), Rates.of(2000));
    assertEquals(Instant.parse("2024-01-01T15:01:00Z"), e.finish());
  }

  @Test
  void theRangeUsesEachHoursSlowestAndFastestRate() {
    FinishForecast.RateModel m = h -> new Rates(1000, 500, 2000);
    FinishForecast.Estimate e = FinishForecast.estimate(3_600_000, MONDAY_14H, Schedule.ALWAYS, m, null);
    assertEquals(MONDAY_14H.plus(Duration.ofMinutes(30)), e.earliest());
    assertEquals(MONDAY_14H.plus(Duration.ofHours(1)), e.finish());
    assertEquals(MONDAY_14H.plus(Duration.ofHours(2)), e.latest());
  }

  @Test
  void unknownWithoutARateAndWhenNoWindowEverOpens() {
    assertFalse(FinishForecast.estimate(10, MONDAY_14H, Schedule.ALWAYS, h -> null, null).known());
    Schedule never = new Schedule(List.of(new ScheduleConfig.Window(EnumSet.noneOf(DayOfWeek.class), 60, 120)), ZoneOffset.UTC);
    FinishForecast.Estimate e = FinishForecast.estimate(10, MONDAY_14H, never, constant(1000), null);
    assertFalse(e.known());
    assertEquals("no window of the schedule ever opens", e.note());
    assertEquals(MONDAY_14H, FinishForecast.estimate(0, MONDAY_14H, Schedule.ALWAYS, h -> null, null).finish());
  }

  @Test
  void windowsFollowDaylightSavingInTheirZone() {
    // Paris, night of 30-31 March 2024 (02:00 -> 03:00). Window 01:00-05:00 local: that night it is 3 h long.
    ZoneId paris = ZoneId.of("Europe/Paris");
    Schedule s = new Schedule(List.of(new ScheduleConfig.Window(EnumSet.allOf(DayOfWeek.class), 60, 300)), paris);
    Instant saturdayNoon = Instant.parse("2024-03-30T11:00:00Z");
    FinishForecast.Estimate e = FinishForecast.estimate(4L * 3600 * 1000, saturdayNoon, s, constant(1000), null);
    // 3 h on the short night (ends 05:00 CEST = 03:00Z), then 1 h the next night from 01:00 CEST = 23:00Z
    assertEquals(Instant.parse("2024-04-01T00:00:00Z"), e.finish());
  }

  @Test
  void aSlowestRateOfZeroLeavesNoLaterBoundAfterTwoWeeksOfHoursNotTheWholeHorizon() {
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    FinishForecast.RateModel m = h -> {
      asked.incrementAndGet();
      return new Rates(1000, 0, 2000);
    };
    FinishForecast.Estimate e = FinishForecast.estimate(3_600_000, MONDAY_14H, Schedule.ALWAYS, m, null);
    assertEquals(MONDAY_14H.plus(Duration.ofHours(1)), e.finish());
    assertEquals(MONDAY_14H.plus(Duration.ofMinutes(30)), e.earliest());
    assertNull(e.latest());
    // Two walks of an hour or so, and the slowest one given up after two weeks of hours adding nothing.
    assertTrue(asked.get() <= 2 * 2 + 2 * 168 + 2, "the model was asked " + asked.get() + " times");
  }

  @Test
  void aRateInOneHourOfTheWeekOnlyIsStillFoundAWeekLater() {
    // Only Sunday 23:00-24:00 moves rows; from Monday 14:00 the walk crosses six and a half idle days first.
    FinishForecast.RateModel m = h -> h == HourOfWeek.HOURS - 1 ? Rates.of(1000) : Rates.of(0);
    FinishForecast.Estimate e = FinishForecast.estimate(3_600_000 + 1_800_000, MONDAY_14H, Schedule.ALWAYS, m, null);
    // 3.6M rows on the first Sunday night, the other 1.8M in the first half of the next one.
    assertEquals(Instant.parse("2024-01-14T23:30:00Z"), e.finish());
  }
}
