package dev.sluice.cache;

import dev.sluice.testing.TestPg;
import java.util.function.BooleanSupplier;

/** Shared set-up of the read path's integration tests. */
final class ReadTests {
  static final String READ_TOKEN = "read-token-0123456789";
  static final String CONTROL_TOKEN = "control-token-0123456789";

  private ReadTests() {}

  /** A config with HTTP on a free port, both tokens, short leases, and the given job objects. */
  static String config(TestPg pg, String src, String tgt, String jobs) {
    return config(pg, src, tgt, "{}", jobs);
  }

  /** The same with a {@code health} section. */
  static String config(TestPg pg, String src, String tgt, String health, String jobs) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"},
         "http": {"port": 0, "token": "%s", "readToken": "%s"},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "health": %s,
         "jobs": [%s]}""".formatted(pg.url(src), pg.url(tgt), CONTROL_TOKEN, READ_TOKEN, health, jobs);
  }

  /** Polls (every 50 ms, up to {@code seconds}) until the condition holds; fails with {@code what}. */
  static void await(String what, int seconds, BooleanSupplier condition) {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static void awaitVerified(TestPg pg, String tgt, String job) {
    // One query: as two, a plan recorded between them would pass before anything was copied.
    await("every segment of " + job + " verified", 90, () -> pg.scalar(tgt, "SELECT (count(*) > 0 AND count(*) FILTER "
        + "(WHERE state <> 'verified') = 0)::int FROM sluice.segments WHERE job = '" + job + "'") == 1);
  }
}
