package dev.sluice.capture;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Keys handed from the WAL reader to the applier of the same agent, in memory. Without it each key
 * read from the WAL is written into the changelog on the source (a COPY), read back, and deleted once
 * applied, and the source's WAL sender decodes those writes too: 11-19% of a drain's CPU a key in
 * logical mode (benchmarks/PROFILE.md, RESULTS.md). Handed over, a key is applied straight away; only keys
 * of segments being copied, which must wait until their segment is verified, go to the changelog.
 *
 * <p>The slot's position is confirmed only after {@link #handle} returns true, that is once every key
 * of the batch is applied, dropped or recorded: an agent killed at any moment loses nothing, the next
 * reader reads the keys again from the slot. A batch the applier does not take within
 * {@value #TAKE_WAIT_MS} ms (it is applying, paused, held by a verification, or not this agent's) is
 * withdrawn and the reader records it in the changelog, as before; so does a batch whose handling
 * failed. A key applied twice is applied once: the applier re-reads the source's current row.
 *
 * <p>Thread rules: {@link #handle} runs on the reader's thread; {@link #next} and {@link Batch#finish}
 * on the applier's context.
 */
final class DirectKeys implements KeyHandoff {
  static final long TAKE_WAIT_MS = 1000;
  private static final int OFFERED = 0;
  private static final int TAKEN = 1;
  private static final int WITHDRAWN = 2;

  /** One batch from the reader. */
  static final class Batch {
    final Map<List<String>, Long> keys;
    private final AtomicInteger state = new AtomicInteger(OFFERED);
    private final CompletableFuture<Boolean> done = new CompletableFuture<>();

    Batch(Map<List<String>, Long> keys) {
      this.keys = keys;
    }

    /** The applier's outcome: true when every key is handled for good. */
    void finish(boolean handled) {
      done.complete(handled);
    }
  }

  private final ConcurrentLinkedQueue<Batch> queue = new ConcurrentLinkedQueue<>();
  private final BooleanSupplier accepting;
  private final Runnable wake;

  /** {@code accepting}: whether the applier takes batches now; {@code wake}: starts it. */
  DirectKeys(BooleanSupplier accepting, Runnable wake) {
    this.accepting = accepting;
    this.wake = wake;
  }

  @Override
  public boolean handle(Map<List<String>, Long> keys, BooleanSupplier stopping, Runnable alive) throws InterruptedException {
    if (keys.isEmpty()) return true;
    if (!accepting.getAsBoolean()) return false;
    Batch b = new Batch(keys);
    queue.add(b);
    wake.run();
    while (true) {
      try {
        return b.done.get(TAKE_WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        return false;
      } catch (TimeoutException e) {
        if (b.state.compareAndSet(OFFERED, WITHDRAWN)) {
          queue.remove(b);
          return false;
        }
        // Taken: the applier is on it (a paced job applies slowly). Keep the stream alive meanwhile.
        alive.run();
        if (stopping.getAsBoolean()) return false;
      }
    }
  }

  /** The next batch to apply, taken (the reader no longer withdraws it), or null. */
  Batch next() {
    for (Batch b = queue.poll(); b != null; b = queue.poll()) {
      if (b.state.compareAndSet(OFFERED, TAKEN)) return b;
    }
    return null;
  }

  /** True when a batch waits. */
  boolean waiting() {
    return !queue.isEmpty();
  }

  /** Hands every waiting batch back to the reader (the applier stops, pauses or is held). */
  void refuseAll() {
    for (Batch b = queue.poll(); b != null; b = queue.poll()) b.done.complete(false);
  }
}
