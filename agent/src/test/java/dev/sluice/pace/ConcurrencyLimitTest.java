package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConcurrencyLimitTest {
  @Test
  void growsWhileLatencyStaysNearItsFloor() {
    ConcurrencyLimit l = new ConcurrencyLimit(1, 8);
    assertEquals(1, l.limit());
    for (int i = 0; i < 100; i++) l.onSample(1_000_000, 1000);
    assertEquals(8, l.limit());
  }

  @Test
  void shrinksWhenLatencyClimbsAndNeverBelowMin() {
    ConcurrencyLimit l = new ConcurrencyLimit(2, 8);
    for (int i = 0; i < 100; i++) l.onSample(1_000_000, 1000);
    l.onSample(3_000_000, 1000); // one slow batch is smoothed away
    assertEquals(8, l.limit());
    l.onSample(5_000_000, 1000); // smoothed 2.3x the floor: a climb
    assertEquals(6, l.limit()); // 8 * 0.8
    for (int i = 0; i < 20; i++) l.onSample(10_000_000, 1000);
    assertEquals(2, l.limit());
  }

  @Test
  void latencyIsComparedPerRow() {
    ConcurrencyLimit l = new ConcurrencyLimit(1, 4);
    for (int i = 0; i < 30; i++) l.onSample(1_000_000, 1000);
    int before = l.limit();
    l.onSample(4_000_000, 4000); // a bigger batch, same cost per row: not a climb
    assertEquals(before, l.limit());
  }

  @Test
  void dropsBackOff() {
    ConcurrencyLimit l = new ConcurrencyLimit(1, 10);
    for (int i = 0; i < 200; i++) l.onSample(1_000_000, 1000);
    l.onDrop();
    assertEquals(8, l.limit());
  }

  @Test
  void floorDriftsToANewRegime() {
    ConcurrencyLimit l = new ConcurrencyLimit(1, 8);
    l.onSample(1_000_000, 1000);
    for (int i = 0; i < 1000; i++) l.onSample(3_000_000, 1000);
    assertTrue(l.floorNanosPerRow() > 2000, "floor follows a lasting change: " + l.floorNanosPerRow());
    for (int i = 0; i < 100; i++) l.onSample(3_000_000, 1000);
    assertEquals(8, l.limit());
  }
}
