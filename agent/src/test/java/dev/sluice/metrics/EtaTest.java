package dev.sluice.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

class EtaTest {
  private static final long S = 1_000_000_000L;

  @Test
  void unknownUntilFiveSecondsOfProgress() {
    Eta eta = new Eta();
    for (int t = 0; t < 5; t++) assertFalse(eta.update(t * S, 1000, 100_000).known());
    assertEquals(100.0, eta.update(5 * S, 1000, 100_000).seconds(), 1e-9);
  }

  @Test
  void rangeFromTheFastestAndSlowestSecond() {
    Eta eta = new Eta();
    double[] rates = {1000, 2000, 500, 1000, 1500, 0, 1000};
    Eta.Range r = null;
    for (int t = 0; t < rates.length; t++) r = eta.update(t * S, rates[t], 60_000);
    assertEquals(60_000 / (7000.0 / 7), r.seconds(), 1e-9);
    assertEquals(30.0, r.low(), 1e-9, "remaining / fastest");
    assertEquals(120.0, r.high(), 1e-9, "remaining / slowest non-idle");
  }

  @Test
  void forgetsRatesOlderThanAMinuteAndIsZeroWhenDone() {
    Eta eta = new Eta();
    eta.update(0, 100, 1000);
    for (int t = 1; t <= 70; t++) eta.update(t * S, 1000, 1000);
    assertEquals(1.0, eta.update(71 * S, 1000, 1000).high(), 1e-9, "the slow start has left the window");
    assertEquals(0.0, eta.update(72 * S, 1000, 0).seconds());
  }

  @Test
  void stalledJobHasNoEstimate() {
    Eta eta = new Eta();
    Eta.Range r = null;
    for (int t = 0; t <= 10; t++) r = eta.update(t * S, 0, 5000);
    assertFalse(r.known());
  }
}
