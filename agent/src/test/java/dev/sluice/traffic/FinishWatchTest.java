package dev.sluice.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ScheduleConfig;
import dev.sluice.pace.Schedule;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The finish date each reader sees: by the rate and the windows, said when a window is closed, none when done or paused, with a trend. */
class FinishWatchTest {
  private static final Instant MON_NOON = Instant.parse("2026-12-07T12:00:00Z"); // a Monday
  private static final Schedule NIGHTS = new Schedule(new ScheduleConfig(List.of(
      new ScheduleConfig.Window(EnumSet.allOf(DayOfWeek.class), 60, 300)), ZoneId.of("UTC")));

  @Test
  void anOpenJobFinishesAtItsRateAndTheTrendFollows() {
    FinishWatch w = new FinishWatch();
    FinishWatch.Finish f = w.update(new FinishWatch.JobNow("j", "copying", false, 360_000, Schedule.ALWAYS, 100.0, null), MON_NOON);
    assertEquals(MON_NOON.plus(Duration.ofHours(1)), f.at(), "360,000 rows at 100 rows/s");
    assertNull(f.noEarlierThan());
    assertTrue(f.said().startsWith("finishes around 2026-12-07 13:00 UTC"), f.said());
    assertNull(f.trend(), "no trend before 5 minutes");
    assertTrue(Double.isNaN(f.trendSeconds()), "no trend in seconds before 5 minutes");
    assertNull(f.json().getValue("trendSeconds"));
    // Ten minutes later the job has slowed: the same rows left, so the finish moved 10 min later.
    FinishWatch.Finish g = w.update(new FinishWatch.JobNow("j", "copying", false, 360_000, Schedule.ALWAYS, 100.0, null),
        MON_NOON.plus(Duration.ofMinutes(10)));
    assertEquals("10 min later than 10 min ago", g.trend());
    assertEquals(600.0, g.trendSeconds(), 1e-9, "the same move in seconds (sluice_job_finish_trend_seconds)");
    assertEquals(600.0, g.json().getDouble("trendSeconds"), 1e-9);
    assertEquals(g, w.latest("j"));
  }

  @Test
  void aClosedWindowMeansNoEarlierThanTheNextOpening() {
    FinishWatch.Finish f = new FinishWatch().update(new FinishWatch.JobNow("j", "copying", false, 720_000, NIGHTS, 100.0, null), MON_NOON);
    assertEquals(Instant.parse("2026-12-08T01:00:00Z"), f.noEarlierThan());
    // 720,000 rows at 100 rows/s = 2 h of window time: Tuesday 01:00-03:00.
    assertEquals(Instant.parse("2026-12-08T03:00:00Z"), f.at());
    assertTrue(f.said().contains("its window is closed now: no earlier than the next opening, 2026-12-08 01:00 UTC"), f.said());
    assertTrue(f.json().getBoolean("windowClosed"));
    assertEquals("2026-12-08T03:00:00Z", f.json().getString("at"));
  }

  @Test
  void doneOrPausedJobsHaveNoFinishDateAndSayWhy() {
    FinishWatch w = new FinishWatch();
    assertNull(w.update(new FinishWatch.JobNow("j", "completed", false, 0, Schedule.ALWAYS, 100.0, null), MON_NOON).at());
    FinishWatch.Finish p = w.update(new FinishWatch.JobNow("j", "copying", true, 10, Schedule.ALWAYS, 100.0, null), MON_NOON);
    assertNull(p.at());
    assertTrue(p.said().contains("paused"), p.said());
    FinishWatch.Finish none = w.update(new FinishWatch.JobNow("k", "copying", false, 10, Schedule.ALWAYS, null, null), MON_NOON);
    assertNull(none.at());
    assertTrue(none.said().startsWith("finish unknown"), none.said());
    // An unpaced job keeps the last minute's rate it had, so a pause in its figures does not lose the date.
    w.update(new FinishWatch.JobNow("u", "copying", false, 6000, Schedule.ALWAYS, null, FinishForecast.Rates.of(100)), MON_NOON);
    FinishWatch.Finish later = w.update(new FinishWatch.JobNow("u", "copying", false, 6000, Schedule.ALWAYS, null, null), MON_NOON);
    assertNotNull(later.at());
    assertEquals(MON_NOON.plusSeconds(60), later.at());
  }
}
