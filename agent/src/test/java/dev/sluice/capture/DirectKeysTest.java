package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hand-over between the WAL reader's thread and the applier: a batch the applier takes is waited
 * for (the stream kept alive meanwhile) and its outcome returned; one it does not take within the
 * wait is withdrawn (the reader records it); nothing is taken while the applier does not accept, and
 * a batch handed back, failed, or still applying when the reader stops counts as not handled.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DirectKeysTest {
  private static final Map<List<String>, Long> KEYS = Map.of(List.of("1"), 10L, List.of("2"), 11L);

  /** Runs {@code handle} on a thread of its own (as the reader does), returning its outcome. */
  private static CompletableFuture<Boolean> handOver(DirectKeys d, AtomicBoolean stopping, Runnable alive) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return d.handle(KEYS, stopping::get, alive);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private static DirectKeys.Batch taken(DirectKeys d) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      DirectKeys.Batch b = d.next();
      if (b != null) return b;
      Thread.sleep(5);
    }
    throw new AssertionError("no batch was offered");
  }

  @Test
  void aBatchTakenIsWaitedForAndItsOutcomeReturned() throws Exception {
    AtomicInteger wakes = new AtomicInteger();
    AtomicInteger alive = new AtomicInteger();
    DirectKeys d = new DirectKeys(() -> true, wakes::incrementAndGet);
    CompletableFuture<Boolean> handled = handOver(d, new AtomicBoolean(), alive::incrementAndGet);
    DirectKeys.Batch b = taken(d);
    assertEquals(KEYS, b.keys);
    assertTrue(wakes.get() >= 1, "the applier was woken");
    Thread.sleep(DirectKeys.TAKE_WAIT_MS + 300); // longer than the wait: taken, so not withdrawn
    assertFalse(handled.isDone(), "the reader waits while the applier applies");
    assertTrue(alive.get() >= 1, "the stream was kept alive meanwhile");
    b.finish(true);
    assertTrue(handled.get(5, TimeUnit.SECONDS));

    CompletableFuture<Boolean> failed = handOver(d, new AtomicBoolean(), () -> { });
    taken(d).finish(false);
    assertFalse(failed.get(5, TimeUnit.SECONDS), "a batch whose apply failed is recorded by the reader");
  }

  @Test
  void aBatchNotTakenWithinTheWaitIsWithdrawn() throws Exception {
    DirectKeys d = new DirectKeys(() -> true, () -> { });
    long t0 = System.nanoTime();
    assertFalse(handOver(d, new AtomicBoolean(), () -> { }).get(5, TimeUnit.SECONDS));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(DirectKeys.TAKE_WAIT_MS), "it waited for the applier first");
    assertNull(d.next(), "withdrawn: the applier can no longer take it");
    assertFalse(d.waiting());
  }

  @Test
  void nothingIsOfferedWhileTheApplierDoesNotAccept() throws Exception {
    AtomicInteger wakes = new AtomicInteger();
    DirectKeys d = new DirectKeys(() -> false, wakes::incrementAndGet);
    assertFalse(handOver(d, new AtomicBoolean(), () -> { }).get(1, TimeUnit.SECONDS));
    assertEquals(0, wakes.get());
    assertNull(d.next());
    assertTrue(d.handle(Map.of(), () -> false, () -> { }), "no keys: nothing to hand over");
  }

  @Test
  void batchesHandedBackOrStillApplyingWhenTheReaderStopsAreNotHandled() throws Exception {
    DirectKeys d = new DirectKeys(() -> true, () -> { });
    CompletableFuture<Boolean> refused = handOver(d, new AtomicBoolean(), () -> { });
    while (!d.waiting()) Thread.sleep(5);
    d.refuseAll();
    assertFalse(refused.get(5, TimeUnit.SECONDS), "handed back (the applier pauses or stops)");

    AtomicBoolean stopping = new AtomicBoolean();
    AtomicReference<DirectKeys.Batch> b = new AtomicReference<>();
    CompletableFuture<Boolean> stopped = handOver(d, stopping, () -> stopping.set(true));
    b.set(taken(d));
    assertFalse(stopped.get(5, TimeUnit.SECONDS), "the reader stops while the batch applies: it records the keys itself");
    assertSame(KEYS, b.get().keys);
  }
}
