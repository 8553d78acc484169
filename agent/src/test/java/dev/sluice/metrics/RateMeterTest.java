package dev.sluice.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateMeterTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void ratesOverAWindowAndHoldsItBetweenWindows() {
    AtomicLong clock = new AtomicLong(5 * SECOND);
    RateMeter m = new RateMeter(clock::get, SECOND);
    assertTrue(Double.isNaN(m.perSecond(100)), "no rate from one reading");
    clock.addAndGet(SECOND / 2);
    assertTrue(Double.isNaN(m.perSecond(400)), "no full window yet");
    clock.addAndGet(SECOND * 3 / 2);
    assertEquals(450.0, m.perSecond(1_000), 1e-9); // 900 keys over 2 s
    clock.addAndGet(SECOND / 4);
    assertEquals(450.0, m.perSecond(1_100), 1e-9, "held until the next window ends");
    clock.addAndGet(SECOND);
    assertEquals(80.0, m.perSecond(1_100), 1e-9, "100 keys over the 1.25 s since the last window");
    clock.addAndGet(SECOND);
    assertEquals(0.0, m.perSecond(1_100), 1e-9, "idle: 0 keys/s");
  }

  @Test
  void aCountThatStartsOverGivesNoRateAcrossIt() {
    AtomicLong clock = new AtomicLong();
    RateMeter m = new RateMeter(clock::get, SECOND);
    m.perSecond(5_000);
    clock.addAndGet(SECOND);
    assertTrue(Double.isNaN(m.perSecond(10)), "a smaller count: started over");
    clock.addAndGet(SECOND);
    assertEquals(90.0, m.perSecond(100), 1e-9);
  }
}
