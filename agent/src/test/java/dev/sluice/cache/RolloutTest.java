package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RolloutTest {
  @Test
  void pauseSendsEverythingToTheSourceUntilSetAgain() {
    Rollout r = new Rollout(10);
    assertTrue(r.toTarget(9));
    assertFalse(r.toTarget(10));
    assertEquals(1, r.mismatch());
    assertTrue(r.pause("mismatches"));
    assertFalse(r.pause("again"), "already paused");
    assertEquals(0, r.effectivePercent());
    assertFalse(r.toTarget(0));
    assertEquals(10, r.targetPercent());
    r.setTargetPercent(1);
    assertEquals(1, r.effectivePercent());
    assertEquals(1, r.mismatch(), "mismatches count from the last set");
    assertThrows(IllegalArgumentException.class, () -> r.setTargetPercent(101));
  }
}
