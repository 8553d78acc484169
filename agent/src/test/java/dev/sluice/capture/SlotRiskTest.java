package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SlotRiskTest {
  private static final long MB = 1048576;
  private final SlotRisk.Limits limits = new SlotRisk.Limits(100 * MB, 200 * MB, 400 * MB);

  @Test
  void growingRetentionThrottlesThenPausesThenDrops() {
    assertEquals(SlotRisk.Action.NONE, SlotRisk.decide(limits, "sluice_t", 99 * MB, false).action());
    SlotRisk.Decision t = SlotRisk.decide(limits, "sluice_t", 150 * MB, false);
    assertEquals(SlotRisk.Action.THROTTLE, t.action());
    assertEquals(0.55, t.rateFactor(), 1e-9);
    assertEquals("slot sluice_t retains 150 MB of WAL (throttle at 100 MB, pause at 200 MB)", t.reason());
    assertEquals(false, t.holds());
    assertEquals(1.0, SlotRisk.decide(limits, "sluice_t", 100 * MB, false).rateFactor(), 1e-9);
    SlotRisk.Decision p = SlotRisk.decide(limits, "sluice_t", 200 * MB, false);
    assertEquals(SlotRisk.Action.PAUSE, p.action());
    assertEquals("slot sluice_t retains 200 MB of WAL (pause at 200 MB, dropped at 400 MB)", p.reason());
    assertEquals(true, p.holds());
    SlotRisk.Decision d = SlotRisk.decide(limits, "sluice_t", 400 * MB, false);
    assertEquals(SlotRisk.Action.DROP, d.action());
    assertEquals("slot sluice_t retains 400 MB of WAL, at or over its limit of 400 MB", d.reason());
  }

  @Test
  void aSlotTheSourceInvalidatedIsDropped() {
    SlotRisk.Decision d = SlotRisk.decide(limits, "sluice_t", 0, true);
    assertEquals(SlotRisk.Action.DROP, d.action());
    assertEquals("the source invalidated slot sluice_t (max_slot_wal_keep_size): changes it held are lost", d.reason());
  }

  @Test
  void limitsMustGrow() {
    assertThrows(IllegalArgumentException.class, () -> new SlotRisk.Limits(3, 2, 4));
  }
}
