package dev.sluice.pace;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The pacer (the shell around {@link TokenBucket}: it owns the timers) takes its time from the nano
 * clock it is given: real time passing refills nothing, the given clock moving does, and a rate
 * change creates no burst. Only the short waits it schedules run on real timers.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class PacerTest {
  private static final long SECOND = 1_000_000_000L;
  private volatile long now;

  @Test
  void theBucketRefillsOnTheGivenClockOnly(Vertx vertx, VertxTestContext ctx) {
    Pacer pacer = new Pacer(vertx, 1000.0, 1000, () -> now);
    Future<Void> burst = pacer.acquire(1000);
    ctx.verify(() -> assertTrue(burst.succeeded(), "the burst is there at once"));
    vertx.timer(300, TimeUnit.MILLISECONDS)
        .compose(v -> {
          // 300 ms of real time, none on the pacer's clock: nothing refilled, the next row waits (1 ms).
          Future<Void> next = pacer.acquire(1);
          ctx.verify(() -> assertFalse(next.isComplete(), "real time refilled the bucket"));
          return next;
        })
        .compose(v -> {
          // A second on the pacer's clock: 1,000 rows accrue, less the row of debt.
          now += SECOND;
          Future<Void> refilled = pacer.acquire(999);
          ctx.verify(() -> assertTrue(refilled.succeeded(), "a second on the given clock refilled the bucket"));
          Future<Void> over = pacer.acquire(1);
          ctx.verify(() -> assertFalse(over.isComplete(), "the bucket holds no more than a second's rows"));
          return over;
        })
        .compose(v -> {
          // A lower rate and burst: the balance (in debt) is not topped up, and the rate applies at once.
          pacer.setRate(10.0, 10);
          now += SECOND / 10;
          Future<Void> slow = pacer.acquire(1);
          ctx.verify(() -> assertFalse(slow.isComplete(), "a tenth of a second at 10 rows/s repays the debt, no more"));
          return slow;
        })
        .compose(v -> {
          now += 10 * SECOND;
          Future<Void> capped = pacer.acquire(10);
          ctx.verify(() -> assertTrue(capped.succeeded(), "ten seconds at 10 rows/s fill the new burst"));
          Future<Void> beyond = pacer.acquire(1);
          ctx.verify(() -> assertFalse(beyond.isComplete(), "the new burst caps the balance at 10 rows"));
          return beyond;
        })
        .compose(v -> {
          pacer.setRate(null, 10);
          Future<Void> unpaced = pacer.acquire(1_000_000);
          ctx.verify(() -> assertTrue(unpaced.succeeded(), "no rate: no wait"));
          return unpaced;
        })
        .onComplete(ctx.succeedingThenComplete());
  }
}
