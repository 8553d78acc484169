package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The bytes in flight of one segment stay within the window; closing it frees a waiting reader. */
class ByteWindowTest {
  @Test
  void aReaderWaitsWhileTheWindowIsFullAndGoesOnWhenBytesAreWritten() throws Exception {
    ByteWindow w = new ByteWindow(100);
    assertTrue(w.acquire(60));
    CompletableFuture<Boolean> second = CompletableFuture.supplyAsync(() -> acquire(w, 60));
    Thread.sleep(100);
    assertFalse(second.isDone(), "60 + 60 > 100: the reader waits");
    assertEquals(60, w.inFlight());
    w.release(60);
    assertTrue(second.get(5, TimeUnit.SECONDS));
    assertEquals(60, w.inFlight());
  }

  @Test
  void oneChunkLargerThanTheWindowPassesAloneAndCloseEndsTheWait() throws Exception {
    ByteWindow w = new ByteWindow(100);
    assertTrue(w.acquire(500), "a single huge row must pass when nothing else is in flight");
    CompletableFuture<Boolean> next = CompletableFuture.supplyAsync(() -> acquire(w, 1));
    Thread.sleep(100);
    assertFalse(next.isDone());
    w.close();
    assertFalse(next.get(5, TimeUnit.SECONDS), "closed: the reader stops");
    assertFalse(w.acquire(1));
  }

  private static boolean acquire(ByteWindow w, long n) {
    try {
      return w.acquire(n);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
