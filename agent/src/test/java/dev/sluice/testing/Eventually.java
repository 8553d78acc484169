package dev.sluice.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition of a running agent (integration tests only; unit tests never wait). */
public final class Eventually {
  private Eventually() {}

  public static void until(Duration limit, String what, BooleanSupplier condition) {
    long end = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) fail("timed out after " + limit.toMillis() + " ms waiting for " + what);
      pause(50);
    }
  }

  /** Waits until {@code value} is non-null and returns it. */
  public static <T> T value(Duration limit, String what, Supplier<T> value) {
    long end = System.nanoTime() + limit.toNanos();
    while (true) {
      T v = value.get();
      if (v != null) return v;
      if (System.nanoTime() > end) fail("timed out after " + limit.toMillis() + " ms waiting for " + what);
      pause(50);
    }
  }

  public static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
