package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CohortTest {
  @Test
  void fixedValuesNeverChange() {
    // Pinned: a change here moves every client's keys between source and target mid-rollout.
    // docs/cutover.md quotes these values so that clients can check their own implementation.
    assertEquals(82, Cohort.of("1"));
    assertEquals(76, Cohort.of("42"));
    assertEquals(26, Cohort.of("[\"eu\",\"7\"]"));
    assertEquals(81, Cohort.of("h\u00e9llo"));
  }

  @Test
  void sequentialKeysSpreadEvenly() {
    int[] counts = new int[100];
    for (int i = 1; i <= 100_000; i++) counts[Cohort.of(Integer.toString(i))]++;
    for (int c = 0; c < 100; c++) assertTrue(counts[c] > 850 && counts[c] < 1150, "cohort " + c + " has " + counts[c]);
    int below10 = 0;
    for (int c = 0; c < 10; c++) below10 += counts[c];
    assertEquals(10.0, below10 / 1000.0, 0.3);
  }

  @Test
  void inRange() {
    for (String k : new String[] {"", "-1", "9223372036854775807", "a,b", "\u0000x"}) {
      int c = Cohort.of(k);
      assertTrue(c >= 0 && c < 100, k + " -> " + c);
    }
  }
}
