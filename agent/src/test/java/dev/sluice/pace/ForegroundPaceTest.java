package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ForegroundConfig;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ForegroundPaceTest {
  private static final long MS = 1_000_000L;
  private static final ForegroundConfig SETTINGS = new ForegroundConfig(5_000 * MS, 1.5, 0.02, 0.1, 4.0);

  private final ForegroundPace pace = new ForegroundPace(SETTINGS);
  private long now = 1_000 * MS;

  /** Runs {@code ms} of time: a probe reading of {@code probeMs} and a foreground sample every 100 ms, a decision every 200 ms. */
  private ForegroundPace.Verdict run(long ms, double probeMs, int busy) {
    ForegroundPace.Verdict v = null;
    for (long t = 0; t < ms; t += 100) {
      now += 100 * MS;
      pace.onProbe(probeMs, now);
      pace.onSessions(busy, now);
      if (t % 200 == 100) v = pace.decide(now);
    }
    return v;
  }

  @Test
  void noForegroundMeansFullSpeedAndNoReason() {
    ForegroundPace.Verdict v = run(10_000, 3.0, 0);
    assertEquals(1.0, v.rateFactor());
    assertFalse(v.throttled());
    assertNull(v.reason());
  }

  @Test
  void foregroundDropsTheRateAtOnceThenClimbsAdditivelyWhileTheProbeStaysNearItsFloor() {
    run(3_000, 0.3, 0);
    ForegroundPace.Verdict v = run(200, 0.3, 2);
    assertEquals(0.1, v.rateFactor(), 1e-9, "protect the users first");
    v = run(10_000, 0.3, 2);
    // About +1% a step of one second.
    assertEquals(0.1 + 10 * ForegroundPace.STEP_UP, v.rateFactor(), ForegroundPace.STEP_UP + 1e-9);
    assertTrue(v.reason().startsWith("foreground active (up to 2 other sessions in a transaction"), v.reason());
    assertTrue(v.reason().contains("probe mean 0.30 ms = 1.0x its floor 0.30 ms: rate at 2"), v.reason());
  }

  @Test
  void aProbeAboveItsFloorTimesTheToleranceHalvesTheRateAndHoldsTheJobAtTheBottom() {
    run(3_000, 0.3, 0);
    run(5_000, 0.3, 1);
    double before = pace.factor();
    // 2x the floor, over the 1.5x tolerance: the first step's second still holds old readings (mean 1.2x:
    // one more step up), the next one is all 2x and backs off.
    ForegroundPace.Verdict v = run(2_000, 0.6, 1);
    assertEquals((before + ForegroundPace.STEP_UP) * ForegroundPace.BACKOFF, v.rateFactor(), 1e-9);
    assertFalse(v.throttled());
    assertTrue(v.reason().contains("probe mean 0.60 ms = 2.0x its floor 0.30 ms"), v.reason());
    v = run(20_000, 0.6, 1);
    assertEquals(0.02, v.rateFactor(), 1e-9, "down to the minimum factor, not below");
    assertFalse(v.throttled(), "2x is under the 4x hard limit");
    v = run(2_000, 3.0, 1);
    assertTrue(v.throttled());
    assertTrue(v.reason().contains("probe mean 3.00 ms = "), v.reason());
    assertTrue(v.reason().endsWith(": waiting (it passed 4.0x at the minimum rate, 2%; the job goes on once it is back within 1.5x)"),
        v.reason());
    v = run(2_000, 0.3, 1);
    assertFalse(v.throttled(), "the probe back at its floor releases the job");
  }

  @Test
  void theHoldsReasonIsTrueWhileTheProbeIsBetweenTheToleranceAndTheHardLimit() {
    run(3_000, 0.3, 0);
    run(5_000, 0.3, 1);
    run(22_000, 0.6, 1); // down to the minimum rate
    assertEquals(0.02, pace.factor(), 1e-9);
    ForegroundPace.Verdict v = run(2_000, 3.0, 1);
    assertTrue(v.throttled());
    // 2.5x the floor: over the 1.5x tolerance, so still held, but under the 4x that caused the hold.
    v = run(3_000, pace.floorMs() * 2.5, 1);
    assertTrue(v.throttled(), "held until the probe is back within the tolerance");
    String r = v.reason();
    Matcher m = Pattern.compile("probe mean [0-9.]+ ms = ([0-9.]+)x its floor [0-9.]+ ms: waiting "
        + "\\(it passed 4\\.0x at the minimum rate, 2%; the job goes on once it is back within 1\\.5x\\)$").matcher(r);
    assertTrue(m.find(), r);
    double now = Double.parseDouble(m.group(1));
    assertTrue(now > 1.5 && now < 4.0, "the reading it states is the one between the two limits: " + r);
    assertFalse(r.contains("over 4.0x"), "says nothing the current reading contradicts: " + r);
    v = run(3_000, pace.floorMs(), 1);
    assertFalse(v.throttled());
    assertTrue(v.reason().matches(".*: rate at [0-9]+%"), v.reason());
  }

  @Test
  void aRatioNextToALimitIsNotPrintedAsTheLimit() {
    assertEquals("1.46", pace.ratio(1.46), "under the 1.5x tolerance");
    assertEquals("1.54", pace.ratio(1.54));
    assertEquals("3.96", pace.ratio(3.96), "under the 4.0x hard limit: not held, so not '4.0x'");
    assertEquals("4.04", pace.ratio(4.04));
    assertEquals("4.0", pace.ratio(4.0));
    assertEquals("2.5", pace.ratio(2.5));
  }

  @Test
  void aStepWithoutProbeReadingsIsSaidAsSuch() {
    run(3_000, 0.3, 0);
    run(2_000, 0.3, 1);
    ForegroundPace.Verdict v = null;
    for (int i = 0; i < 15; i++) { // foreground samples but no probe reading for 1.5 s
      now += 100 * MS;
      pace.onSessions(1, now);
      v = pace.decide(now);
    }
    assertTrue(v.reason().contains("no probe reading in the last second (its floor 0.30 ms)"), v.reason());
    assertFalse(v.reason().contains("NaN"), v.reason());
    // Just over the tolerance is not printed as if it were the tolerance itself.
    v = run(2_000, 0.453, 1);
    assertTrue(v.reason().contains("probe mean 0.45 ms = 1.51x its floor 0.30 ms: rate at"), v.reason());
  }

  @Test
  void theFloorIsTheLowestP90AndSluicesOwnLoadWithoutForegroundNeverRaisesIt() {
    run(2_000, 0.3, 0);
    assertEquals(0.3, pace.floorMs(), 1e-9);
    run(60_000, 2.0, 0); // full speed on an idle database: the probe rises with Sluice's own load
    assertEquals(0.3, pace.floorMs(), 1e-9);
    // Under foreground, once Sluice is down at its minimum, the floor drifts toward a lasting new level, 2% of the gap a step.
    run(10_000, 0.5, 1);
    assertTrue(pace.floorMs() > 0.3 && pace.floorMs() < 0.35, String.valueOf(pace.floorMs()));
  }

  @Test
  void whenTheForegroundLeavesTheRateReturnsToFullWithinSeconds() {
    run(3_000, 0.3, 0);
    run(5_000, 0.9, 3);
    assertTrue(pace.factor() < 0.1);
    ForegroundPace.Verdict v = run(4_800, 0.3, 0);
    assertTrue(v.rateFactor() < 0.2, "still within quiet: " + v.rateFactor());
    v = run(1_000, 0.3, 0);
    assertTrue(v.reason().startsWith("no foreground for 5 s: rate back up at"), v.reason());
    v = run(4_000, 0.3, 0);
    assertEquals(1.0, v.rateFactor());
    assertNull(v.reason());
  }

  @Test
  void aReloadKeepsTheLearntStateAndTakesTheNewKnobs() {
    run(3_000, 0.3, 0);
    run(3_000, 0.3, 1);
    double f = pace.factor();
    pace.reconfigure(new ForegroundConfig(5_000 * MS, 3.0, 0.2, 0.2, 5.0));
    assertEquals(Math.max(f, 0.2), pace.factor(), 1e-9, "a higher minimum applies at once");
    assertEquals(0.3, pace.floorMs(), 1e-9);
    ForegroundPace.Verdict v = run(1_000, 0.75, 1); // 2.5x: within the new 3x tolerance
    assertTrue(v.rateFactor() > 0.2, String.valueOf(v.rateFactor()));
  }

  @Test
  void withTooFewProbeReadingsTheFactorHoldsAndTheReasonSaysItIsLearning() {
    now += 100 * MS;
    pace.onSessions(1, now);
    ForegroundPace.Verdict v = pace.decide(now);
    assertEquals(0.1, v.rateFactor(), 1e-9);
    assertTrue(v.reason().endsWith("learning the probe's floor: rate at 10%"), v.reason());
  }
}
