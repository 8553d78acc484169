package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BatchSizerTest {
  private final Duration target = Duration.ofMillis(250);

  @Test
  void convergesOnTheTargetDuration() {
    BatchSizer b = new BatchSizer(100, 100_000, 1000, target);
    for (int i = 0; i < 40; i++) {
      int n = b.size();
      b.onBatch(n, (long) (n / 20_000.0 * 1e9)); // the database writes 20,000 rows/s
    }
    assertEquals(5000, b.size(), 50);
  }

  @Test
  void oneSlowBatchDoesNotHalveTheNext() {
    BatchSizer b = new BatchSizer(100, 100_000, 5000, target);
    b.onBatch(5000, 2_500_000_000L); // ten times the target
    assertTrue(b.size() >= 4000, "smoothed: " + b.size());
  }

  @Test
  void staysWithinBounds() {
    BatchSizer b = new BatchSizer(500, 2000, 1000, target);
    for (int i = 0; i < 50; i++) b.onBatch(b.size(), 1_000);
    assertEquals(2000, b.size());
    for (int i = 0; i < 50; i++) b.onBatch(b.size(), 60_000_000_000L);
    assertEquals(500, b.size());
  }

  @Test
  void aPacedJobNeverBatchesMoreThanTheTargetsWorthOfRate() {
    BatchSizer b = new BatchSizer(10, 100_000, 10_000, target);
    b.rate(400.0);
    assertEquals(100, b.size());
    b.rate(null);
    assertEquals(10_000, b.size());
  }
}
