package dev.sluice.pace;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The actuator of a job's rate budget: every batch reserves its rows from the job's
 * {@link TokenBucket} and waits (on a timer, never blocking) until they are due. No rate means
 * unpaced. Thread-safe: segments of one job run on several event loops. Time comes from the nano
 * clock the composition root passes ({@code System::nanoTime} in production), so a test can move it.
 */
public final class Pacer {
  private final Vertx vertx;
  private final LongSupplier nanos;
  private TokenBucket bucket;

  public Pacer(Vertx vertx, Double rowsPerSecond, long burstRows, LongSupplier nanos) {
    this.vertx = vertx;
    this.nanos = nanos;
    setRate(rowsPerSecond, burstRows);
  }

  /** Changes the rate live; {@code null} removes the limit. No burst is created by a change. */
  public synchronized void setRate(Double rowsPerSecond, long burstRows) {
    if (rowsPerSecond == null) {
      bucket = null;
    } else if (bucket == null) {
      bucket = new TokenBucket(rowsPerSecond, Math.max(1, burstRows), nanos);
    } else {
      bucket.setRate(rowsPerSecond);
      bucket.setBurst(Math.max(1, burstRows));
    }
  }

  public synchronized Double rate() {
    return bucket == null ? null : bucket.rate();
  }

  private synchronized long reserve(long rows) {
    return bucket == null ? 0 : bucket.reserve(rows);
  }

  /** Completes when {@code rows} rows may be written. */
  public Future<Void> acquire(long rows) {
    long waitNanos = reserve(rows);
    if (waitNanos <= 0) return Future.succeededFuture();
    return vertx.timer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)), TimeUnit.MILLISECONDS).mapEmpty();
  }
}
