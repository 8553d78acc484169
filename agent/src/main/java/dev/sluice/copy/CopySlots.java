package dev.sluice.copy;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A count of things that may run at once (a job's COPY streams, its read-backs), taken and handed
 * back without blocking: who finds none free waits, in order, and is resumed on its own context.
 */
final class CopySlots {
  private final Deque<Runnable> waiting = new ArrayDeque<>();
  private int free;

  CopySlots(int size) {
    this.free = size;
  }

  /** Completes (on {@code ctx}) once a slot is this caller's. */
  Future<Void> take(Context ctx) {
    synchronized (this) {
      if (free > 0) {
        free--;
        return Future.succeededFuture();
      }
      Promise<Void> p = Promise.promise();
      waiting.add(() -> ctx.runOnContext(v -> p.complete()));
      return p.future();
    }
  }

  /** Hands a slot back: to the first waiter, if any. */
  Future<Void> release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) free++;
    }
    if (next != null) next.run();
    return Future.succeededFuture();
  }
}
