package dev.sluice.notify;

import dev.sluice.resilience.Backoff;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One webhook's outbox: posts go out one at a time, in order; a failed post is retried after a
 * full-jitter exponential backoff ({@link Backoff}), up to {@code maxAttempts}, then dropped. The
 * outbox holds at most {@code capacity} posts: when a receiver is down for long, the oldest are
 * dropped, so a dead receiver never costs more than bounded memory, and the migration never waits
 * on it. Pure: the caller passes the time (nanoseconds) and does the posting.
 */
public final class Deliveries {
  /** A post: its body, the attempts made, and when it may go (nanos). */
  public static final class Delivery {
    final String body;
    final String kind;
    int attempts;
    long due;

    Delivery(String kind, String body, long due) {
      this.kind = kind;
      this.body = body;
      this.due = due;
    }

    public String body() {
      return body;
    }

    public String kind() {
      return kind;
    }

    public int attempts() {
      return attempts;
    }
  }

  private final int capacity;
  private final int maxAttempts;
  private final Backoff backoff;
  private final Deque<Delivery> queue = new ArrayDeque<>();
  private Delivery inFlight;
  private long sent;
  private long dropped;
  private long givenUp;

  public Deliveries(int capacity, int maxAttempts, Backoff backoff) {
    this.capacity = capacity;
    this.maxAttempts = maxAttempts;
    this.backoff = backoff;
  }

  /** Queues a post; returns false when the outbox was full and the oldest waiting post was dropped. */
  public synchronized boolean offer(String kind, String body, long now) {
    boolean room = true;
    if (queue.size() >= capacity) {
      queue.removeFirst();
      dropped++;
      room = false;
    }
    queue.addLast(new Delivery(kind, body, now));
    return room;
  }

  /** The next post to send now, or null (one is in flight, none is queued, or the head waits for its retry). */
  public synchronized Delivery next(long now) {
    if (inFlight != null || queue.isEmpty() || queue.peekFirst().due > now) return null;
    inFlight = queue.removeFirst();
    inFlight.attempts++;
    return inFlight;
  }

  public synchronized void succeeded(Delivery d) {
    if (d == inFlight) inFlight = null;
    sent++;
  }

  /**
   * A post failed. Retryable and attempts left: it goes back to the head, due after the backoff, and
   * the delay in ms is returned. Otherwise it is dropped and -1 returned.
   */
  public synchronized long failed(Delivery d, long now, boolean retryable) {
    if (d == inFlight) inFlight = null;
    if (!retryable || d.attempts >= maxAttempts) {
      givenUp++;
      return -1;
    }
    long delay = Math.max(1, backoff.delayMs(d.attempts));
    d.due = now + delay * 1_000_000L;
    queue.addFirst(d);
    return delay;
  }

  public synchronized int waiting() {
    return queue.size() + (inFlight == null ? 0 : 1);
  }

  public synchronized long sent() {
    return sent;
  }

  /** Posts dropped unsent because the outbox was full. */
  public synchronized long dropped() {
    return dropped;
  }

  /** Posts abandoned after their last attempt (or a permanent refusal). */
  public synchronized long givenUp() {
    return givenUp;
  }
}
