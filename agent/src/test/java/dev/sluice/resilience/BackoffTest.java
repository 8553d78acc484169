package dev.sluice.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void ceilingDoublesUpToTheCap() {
    Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), () -> 1.0);
    assertEquals(200, b.ceilingMs(1));
    assertEquals(400, b.ceilingMs(2));
    assertEquals(3200, b.ceilingMs(5));
    assertEquals(5000, b.ceilingMs(6));
    assertEquals(5000, b.ceilingMs(1000));
  }

  @Test
  void fullJitterDrawsBetweenZeroAndTheCeiling() {
    double[] r = {0.0};
    Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), () -> r[0]);
    assertEquals(0, b.delayMs(4));
    r[0] = 0.5;
    assertEquals(800, b.delayMs(4));
    r[0] = 0.999;
    assertEquals(4995, b.delayMs(9));
  }
}
