package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.Env;
import dev.sluice.config.JobConfig;
import io.vertx.core.Vertx;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An unpaced job slowed by a headroom factor is paced at that share of its own measured full rate. */
class AdaptivePaceTest {
  private static final long MS = 1_000_000L;
  private final Vertx vertx = Vertx.vertx();
  private long now;

  @AfterEach
  void close() {
    vertx.close();
    Env.override(null);
  }

  private AdaptivePace unpaced() {
    Env.override(Map.of());
    JobConfig job = ConfigLoader.parse("""
        {"source": {"url": "postgresql://u@localhost/a"}, "target": {"url": "postgresql://u@localhost/b"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}]}
        """).jobs().get(0);
    return new AdaptivePace(vertx, job, () -> now);
  }

  @Test
  void beforeAnyMeasurementTheFullRateIsWhatTheBatchSizerAimsFor() {
    AdaptivePace pace = unpaced();
    assertNull(pace.pacer().rate(), "unpaced at full headroom");
    pace.headroom(0.1, "foreground active");
    // concurrency.max 4 x batch.rows 5000 / batch.targetMs 250 ms = 80,000 rows/s; a tenth of it.
    assertEquals(8_000.0, pace.pacer().rate(), 1e-6);
    assertEquals(1, pace.concurrency());
    assertEquals("foreground active", pace.factorReason());
    pace.headroom(1.0, null);
    assertNull(pace.pacer().rate(), "unpaced again");
    assertNull(pace.factorReason());
  }

  @Test
  void aPathsGuessStandsForTheFullRateUntilOneIsMeasured() {
    AdaptivePace pace = unpaced();
    pace.assumeFullRate(100_000); // the COPY path's: two streams of 50,000 rows/s
    assertNull(pace.pacer().rate(), "unpaced at full headroom");
    pace.headroom(0.1, "foreground active");
    assertEquals(10_000.0, pace.pacer().rate(), 1e-6, "a tenth of the guess, not of the batch sizer's 80,000 rows/s");
    pace.headroom(1.0, null);
    pace.onBatch(5_000, 50 * MS);
    for (int i = 0; i < 10; i++) {
      now += 100 * MS;
      pace.onBatch(3_000, 50 * MS);
    }
    assertEquals(30_000.0, pace.fullRate(), 1e-6);
    pace.headroom(0.1, "foreground active");
    assertEquals(3_000.0, pace.pacer().rate(), 1e-6, "the measured rate wins over the guess");
  }

  @Test
  void theFullRateIsTheBestSecondMeasuredAtFullHeadroom() {
    AdaptivePace pace = unpaced();
    pace.onBatch(5_000, 50 * MS); // opens the first window
    for (int i = 0; i < 10; i++) {
      now += 100 * MS;
      pace.onBatch(5_000, 50 * MS);
    }
    assertEquals(50_000.0, pace.fullRate(), 1e-6);
    pace.headroom(0.2, "foreground active");
    assertEquals(10_000.0, pace.pacer().rate(), 1e-6);
    // Seconds spent slowed do not count as the full rate.
    for (int i = 0; i < 20; i++) {
      now += 100 * MS;
      pace.onBatch(1_000, 10 * MS);
    }
    assertEquals(50_000.0, pace.fullRate(), 1e-6);
  }
}
