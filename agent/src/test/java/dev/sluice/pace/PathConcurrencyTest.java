package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.Env;
import dev.sluice.config.JobConfig;
import io.vertx.core.Vertx;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The adaptive limit grows no further than the job's path allows (the COPY path's default is smaller than concurrency.max's). */
class PathConcurrencyTest {
  private static final long MS = 1_000_000L;
  private final Vertx vertx = Vertx.vertx();
  private long now;

  @AfterEach
  void close() {
    vertx.close();
    Env.override(null);
  }

  private static JobConfig job() {
    Env.override(Map.of());
    return ConfigLoader.parse("""
        {"source": {"url": "postgresql://u@localhost/a"}, "target": {"url": "postgresql://u@localhost/b"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}]}
        """).jobs().get(0);
  }

  private int grown(AdaptivePace pace) {
    for (int i = 0; i < 200; i++) {
      now += 50 * MS;
      pace.onBatch(5_000, 50 * MS); // steady latency: the limit earns +1 a round
    }
    return pace.concurrency();
  }

  @Test
  void theLimitStopsAtThePathsMaximum() {
    JobConfig job = job();
    assertEquals(1, grown(new AdaptivePace(vertx, job, () -> now, j -> j.concurrencyMax(true, 2))));
    assertEquals(2, grown(new AdaptivePace(vertx, job, () -> now, j -> j.concurrencyMax(true, 4))));
    assertEquals(JobConfig.DEFAULT_CONCURRENCY_MAX, grown(new AdaptivePace(vertx, job, () -> now)));
  }

  @Test
  void anUnmeasuredSlowedJobIsPacedFromThePathsMaximum() {
    AdaptivePace pace = new AdaptivePace(vertx, job(), () -> now, j -> 1);
    pace.headroom(0.1, "foreground active");
    // 1 stream x batch.rows 5000 / batch.targetMs 250 ms = 20,000 rows/s; a tenth of it.
    assertEquals(2_000.0, pace.pacer().rate(), 1e-6);
  }
}
