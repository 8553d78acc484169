package dev.sluice.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class FinishTrendTest {
  static final Instant T0 = Instant.parse("2024-01-01T10:00:00Z");

  @Test
  void comparesWithTheEstimateOfAnHourAgo() {
    FinishTrend t = new FinishTrend();
    Instant finish = T0.plus(Duration.ofHours(10));
    for (int m = 0; m <= 60; m++) {
      // the estimate slips by 2 minutes each minute: 2 h over the hour
      t.update(T0.plus(Duration.ofMinutes(m)), finish.plus(Duration.ofMinutes(2L * m)));
    }
    FinishTrend.Trend tr = t.update(T0.plus(Duration.ofMinutes(60)), finish.plus(Duration.ofMinutes(120)));
    assertEquals(7200.0, tr.secondsLater(), 1e-9);
    assertEquals("2 h later than an hour ago", tr.sentence());
  }

  @Test
  void duringTheFirstHourTheOldestAfterFiveMinutesAndEarlierToo() {
    FinishTrend t = new FinishTrend();
    Instant finish = T0.plus(Duration.ofHours(10));
    assertNull(t.update(T0, finish));
    assertNull(t.update(T0.plus(Duration.ofMinutes(4)), finish), "under five minutes: no trend yet");
    FinishTrend.Trend tr = t.update(T0.plus(Duration.ofMinutes(20)), finish.minus(Duration.ofMinutes(45)));
    assertEquals("45 min earlier than 20 min ago", tr.sentence());
  }

  @Test
  void smallMovesAreUnchanged() {
    FinishTrend t = new FinishTrend();
    Instant finish = T0.plus(Duration.ofDays(10));
    t.update(T0, finish);
    FinishTrend.Trend tr = t.update(T0.plus(Duration.ofMinutes(61)), finish.plus(Duration.ofMinutes(30)));
    assertEquals("unchanged since an hour ago", tr.sentence(), "30 min on 10 days is under 1%");
  }

  @Test
  void durationsInWords() {
    assertEquals("45 s", Durations.words(45));
    assertEquals("12 min", Durations.words(720));
    assertEquals("2 h 5 min", Durations.words(7500));
    assertEquals("3 d 4 h", Durations.words(3 * 86400 + 4 * 3600 + 100));
  }
}
