package dev.sluice.copy;

/**
 * The bytes of one segment's stream read from the source and not yet written to the target: the
 * source's reader waits while the window is full, so a slow target, the pacer or a closed gate
 * holds the source back (through TCP, down to the server) instead of filling the agent's memory.
 * At most {@code limit} bytes are in flight, or one chunk when a single chunk is larger (one huge
 * row). Closing the window wakes a waiting reader for good.
 */
final class ByteWindow {
  private final long limit;
  private long inFlight;
  private boolean closed;

  ByteWindow(long limit) {
    if (limit < 1) throw new IllegalArgumentException("limit must be positive");
    this.limit = limit;
  }

  /** Waits until {@code bytes} fit; false when the window was closed (the stream is over). */
  synchronized boolean acquire(long bytes) throws InterruptedException {
    while (!closed && inFlight > 0 && inFlight + bytes > limit) wait();
    if (closed) return false;
    inFlight += bytes;
    return true;
  }

  synchronized void release(long bytes) {
    inFlight = Math.max(0, inFlight - bytes);
    notifyAll();
  }

  synchronized void close() {
    closed = true;
    notifyAll();
  }

  synchronized long inFlight() {
    return inFlight;
  }
}
