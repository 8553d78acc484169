package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private long now;
  private final TokenBucket bucket = new TokenBucket(1000, 100, () -> now);

  @Test
  void burstIsFreeThenRowsWaitAtTheRate() {
    assertEquals(0, bucket.reserve(100));
    assertEquals(500_000_000L, bucket.reserve(500)); // 500 rows in debt at 1000/s
    now += 500_000_000L;
    assertEquals(0, bucket.available(), 1e-9);
  }

  @Test
  void refillIsCappedAtTheBurst() {
    bucket.reserve(100);
    now += 10_000_000_000L;
    assertEquals(100, bucket.available(), 1e-9);
  }

  @Test
  void rateChangeTakesEffectAtOnceWithNoBurst() {
    bucket.reserve(100);
    now += 50_000_000L; // 50 tokens accrued at the old rate
    bucket.setRate(10_000);
    assertEquals(50, bucket.available(), 1e-9);
    now += 1_000_000L; // 10 more at the new rate
    assertEquals(60, bucket.available(), 1e-9);
    bucket.setBurst(20);
    assertEquals(20, bucket.available(), 1e-9);
  }

  @Test
  void sustainedRateIsHonoured() {
    long rows = 0;
    long end = 10_000_000_000L;
    while (now < end) {
      long wait = bucket.reserve(50);
      now += Math.max(wait, 1);
      rows += 50;
    }
    assertEquals(10_000 + 100, rows, 100); // 10 s at 1000/s, plus the initial burst
  }
}
