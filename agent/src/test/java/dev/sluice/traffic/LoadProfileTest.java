package dev.sluice.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadProfileTest {
  static final Instant MONDAY = Instant.parse("2024-01-01T00:00:00Z");
  static final ZoneId UTC = ZoneOffset.UTC;

  static TrafficHour hour(Instant h, double xactsPerSecond, double busy) {
    return new TrafficHour("s", h, 3600, xactsPerSecond * 3600, 3600, busy * 100, 100, busy * 2, 100, 100, 2);
  }

  static JobHour jobHour(String job, Instant h, long rows, double run) {
    return new JobHour(job, h, rows, rows / 10_000.0, run, 0, Map.of(), 0, 0, 0);
  }

  @Test
  void foldsHoursIntoTheWeekInTheZoneAsked() {
    Instant tue10 = MONDAY.plus(Duration.ofHours(24 + 10));
    LoadProfile utc = LoadProfile.of(List.of(hour(tue10, 500, 4)), List.of(), UTC, tue10.plusSeconds(3600));
    assertEquals(500.0, utc.cell(34).xactsPerSecond(), 1e-9);
    assertEquals(4.0, utc.cell(34).busy(), 1e-9);
    assertTrue(Double.isNaN(utc.cell(33).xactsPerSecond()));
    LoadProfile paris = LoadProfile.of(List.of(hour(tue10, 500, 4)), List.of(), ZoneId.of("Europe/Paris"), tue10.plusSeconds(3600));
    assertEquals(500.0, paris.cell(35).xactsPerSecond(), 1e-9, "10:00 UTC is 11:00 in Paris in January");
  }

  @Test
  void olderWeeksWeighLessAndBeyondEightWeeksNothing() {
    Instant now = MONDAY.plus(Duration.ofDays(7 * 10));
    Instant thisWeek = now.minus(Duration.ofDays(7)).plus(Duration.ofHours(10));
    Instant twoWeeksEarlier = thisWeek.minus(Duration.ofDays(14));
    Instant nineWeeksEarlier = thisWeek.minus(Duration.ofDays(63));
    LoadProfile p = LoadProfile.of(List.of(hour(thisWeek, 100, 1), hour(twoWeeksEarlier, 400, 1), hour(nineWeeksEarlier, 10_000, 1)),
        List.of(), UTC, now);
    // weights: w and w/2 (one half-life apart): (100 w + 400 w/2) / (w + w/2) = 200
    assertEquals(200.0, p.cell(10).xactsPerSecond(), 1e-6);
    assertEquals(2, p.cell(10).hours());
    assertEquals(0.0, LoadProfile.weight(nineWeeksEarlier, now));
    assertEquals(Math.pow(0.5, 0.5), LoadProfile.weight(now.minus(Duration.ofDays(7)), now), 1e-9);
  }

  @Test
  void aJobsRateIsTrustedAfterTenMinutesWithTheSlowestAndFastestHourAsRange() {
    Instant now = MONDAY.plus(Duration.ofDays(21));
    List<JobHour> hours = new ArrayList<>();
    hours.add(jobHour("orders", MONDAY.plus(Duration.ofHours(3)), 3_600_000, 3600));        // 1000/s
    hours.add(jobHour("orders", MONDAY.plus(Duration.ofDays(7).plusHours(3)), 7_200_000, 3600)); // 2000/s
    hours.add(jobHour("orders", MONDAY.plus(Duration.ofHours(4)), 5_000, 500));            // too little
    LoadProfile p = LoadProfile.of(List.of(), hours, UTC, now);
    LoadProfile.JobCell c = p.job("orders")[3];
    assertTrue(c.trusted());
    assertEquals(1000.0, c.low(), 1e-9);
    assertEquals(2000.0, c.high(), 1e-9);
    assertTrue(c.rate() > 1500 && c.rate() < 2000, "the newer, faster week weighs more: " + c.rate());
    assertFalse(p.job("orders")[4].trusted());
    assertNull(p.job("other"));
    assertEquals(0.1, p.costPerRowMs("orders"), 1e-9);
    assertTrue(Double.isNaN(p.costPerRowMs("other")));
  }

  @Test
  void knowsWhenItHasLessThanADay() {
    List<TrafficHour> hours = new ArrayList<>();
    for (int i = 0; i < 23; i++) hours.add(hour(MONDAY.plus(Duration.ofHours(i)), 1, 1));
    assertFalse(LoadProfile.of(hours, List.of(), UTC, MONDAY.plus(Duration.ofDays(1))).enoughData());
    hours.add(hour(MONDAY.plus(Duration.ofHours(23)), 1, 1));
    LoadProfile p = LoadProfile.of(hours, List.of(), UTC, MONDAY.plus(Duration.ofDays(1)));
    assertTrue(p.enoughData());
    assertEquals(24, p.hoursWithData());
  }
}
