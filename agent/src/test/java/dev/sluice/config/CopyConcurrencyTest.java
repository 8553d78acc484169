package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** How many segments a job has in flight by default: half the agent's cores on the COPY path, {@code concurrency.max} as given. */
class CopyConcurrencyTest {
  private static JobConfig job(String concurrency) {
    return ConfigLoader.parse("""
        {"source": {"url": "postgresql://u@127.0.0.1:5432/a"}, "target": {"url": "postgresql://u@127.0.0.1:5432/b"},
         "jobs": [{"name": "orders", "source": {"table": "public.orders", "key": ["id"]}, "target": {"table": "public.orders"}
         %s}]}
        """.formatted(concurrency)).jobs().get(0);
  }

  @Test
  void leftToItsDefaultTheCopyPathTakesHalfTheCoresBetweenOneAndFour() {
    JobConfig j = job("");
    assertNull(j.pacing().concurrencyMaxGiven());
    assertEquals(JobConfig.DEFAULT_CONCURRENCY_MAX, j.concurrencyMax());
    assertEquals(1, j.concurrencyMax(true, 1));
    assertEquals(1, j.concurrencyMax(true, 2));
    assertEquals(1, j.concurrencyMax(true, 3));
    assertEquals(2, j.concurrencyMax(true, 4));
    assertEquals(4, j.concurrencyMax(true, 8));
    assertEquals(4, j.concurrencyMax(true, 64));
  }

  @Test
  void otherPathsKeepTheDefault() {
    JobConfig j = job("");
    assertEquals(4, j.concurrencyMax(false, 2));
    assertEquals(4, j.concurrencyMax(false, 64));
  }

  @Test
  void aGivenMaxIsTakenAsItIsOnEveryPath() {
    JobConfig j = job(", \"concurrency\": {\"max\": 3}");
    assertEquals(3, j.pacing().concurrencyMaxGiven());
    assertEquals(3, j.concurrencyMax(true, 2));
    assertEquals(3, j.concurrencyMax(false, 2));
    assertEquals(3, j.concurrencyMax(true, 64));
  }

  @Test
  void theDefaultNeverFallsBelowAGivenMin() {
    JobConfig j = job(", \"concurrency\": {\"min\": 2}");
    assertEquals(2, j.concurrencyMax(true, 2));
    assertEquals(4, j.concurrencyMax(true, 16));
  }
}
