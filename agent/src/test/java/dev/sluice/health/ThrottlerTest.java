package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.SensorSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ThrottlerTest {
  private static final long S = 1_000_000_000L;
  private final SensorSpec lag = new SensorSpec(SensorSpec.Kind.REPLICATION_LAG, "source", 1.0, Duration.ofSeconds(1), null);
  private final SensorSpec locks = new SensorSpec(SensorSpec.Kind.LOCK_WAITERS, "target", 0, Duration.ofSeconds(1), null);
  private final Throttler t = new Throttler(List.of(lag, locks), 2 * S, 3 * S);
  private final Map<String, Reading> readings = new HashMap<>();

  private void read(SensorSpec s, double v, long at) {
    readings.put(s.id(), Reading.of(v, at));
  }

  @Test
  void aSensorOverItsThresholdThrottlesWithAReadableReason() {
    read(lag, 2.4, 0);
    read(locks, 0, 0);
    Throttler.Decision d = t.decide(readings, 0);
    assertTrue(d.throttled());
    assertEquals("replication lag on source 2.4 s > 1.0 s", d.reason());
  }

  @Test
  void resumesOnlyAfterEverySensorStayedHealthyForResumeAfter() {
    read(lag, 0, 0);
    read(locks, 3, 0);
    assertEquals("backends waiting on locks on target 3 > 0", t.decide(readings, 0).reason());
    read(locks, 0, S);
    Throttler.Decision d = t.decide(readings, S);
    assertTrue(d.throttled());
    assertTrue(d.reason().startsWith("sensors healthy for 0.0 s of the 3.0 s required to resume"), d.reason());
    read(lag, 0, 3 * S);
    read(locks, 0, 3 * S);
    assertTrue(t.decide(readings, 3 * S).throttled());
    read(lag, 0, 4 * S);
    read(locks, 0, 4 * S);
    assertFalse(t.decide(readings, 4 * S).throttled());
  }

  @Test
  void aStaleSensorFailsClosed() {
    read(lag, 0, 0);
    read(locks, 0, 0);
    assertFalse(t.decide(readings, 2 * S).throttled());
    Throttler.Decision d = t.decide(readings, 3 * S + 1);
    assertTrue(d.throttled());
    assertTrue(d.reason().contains("replication lag on source has not answered for 3.0 s (grace 3.0 s); failing closed"), d.reason());
  }

  @Test
  void aFailedReadingOrNoReadingThrottles() {
    readings.put(lag.id(), Reading.failed("08006 connection refused", 0));
    Throttler.Decision d = t.decide(readings, 0);
    assertEquals("replication lag on source failed: 08006 connection refused; backends waiting on locks on target has no reading yet", d.reason());
  }

  @Test
  void rateFollowsHeadroomDownAtOnceAndUpGradually() {
    read(locks, 0, 0);
    read(lag, 0.4, 0);
    assertEquals(1.0, t.decide(readings, 0).rateFactor(), 1e-9);
    read(lag, 0.75, S);
    Throttler.Decision d = t.decide(readings, S);
    assertFalse(d.throttled());
    assertEquals(0.55, d.rateFactor(), 1e-9);
    assertEquals("rate at 55%: replication lag on source 0.8 s of 1.0 s", d.headroom());
    read(lag, 0.1, 2 * S);
    read(locks, 0, 2 * S);
    assertEquals(0.65, t.decide(readings, 2 * S).rateFactor(), 1e-9);
    read(lag, 0.1, 7 * S);
    read(locks, 0, 7 * S);
    Throttler.Decision up = t.decide(readings, 7 * S);
    assertEquals(1.0, up.rateFactor(), 1e-9);
    assertNull(up.headroom());
  }

  @Test
  void controlLawConstants() {
    assertEquals(1.0, Throttler.headroomFactor(0.5), 1e-9);
    assertEquals(0.1, Throttler.headroomFactor(1.0), 1e-9);
    assertEquals(0.1, Throttler.headroomFactor(7), 1e-9);
  }

  @Test
  void waitingForFirstReadingsArmsNoHysteresis() {
    assertTrue(t.decide(readings, 0).throttled());
    read(lag, 0, S);
    read(locks, 0, S);
    assertFalse(t.decide(readings, S).throttled());
  }
}
