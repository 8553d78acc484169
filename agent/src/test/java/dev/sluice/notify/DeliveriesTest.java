package dev.sluice.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.sluice.resilience.Backoff;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DeliveriesTest {
  static final long MS = 1_000_000L;

  static Deliveries outbox(int capacity, int attempts, double random) {
    return new Deliveries(capacity, attempts, new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), () -> random));
  }

  @Test
  void oneAtATimeInOrder() {
    Deliveries d = outbox(10, 3, 1.0);
    d.offer("a", "1", 0);
    d.offer("b", "2", 0);
    Deliveries.Delivery first = d.next(0);
    assertEquals("1", first.body());
    assertNull(d.next(0), "one in flight");
    d.succeeded(first);
    assertEquals("2", d.next(0).body());
    assertEquals(1, d.sent());
  }

  @Test
  void aFailedPostIsRetriedFirstAfterAJitteredDoublingDelayThenGivenUp() {
    Deliveries d = outbox(10, 3, 0.5);
    d.offer("a", "1", 0);
    d.offer("b", "2", 0);
    Deliveries.Delivery p = d.next(0);
    assertEquals(50, d.failed(p, 0, true), "half of the 100 ms ceiling");
    assertNull(d.next(49 * MS), "waits for its retry, and so does the post behind it");
    assertSame(p, d.next(50 * MS));
    assertEquals(100, d.failed(p, 50 * MS, true), "the ceiling doubled");
    assertSame(p, d.next(150 * MS));
    assertEquals(-1, d.failed(p, 150 * MS, true), "third attempt was the last");
    assertEquals(1, d.givenUp());
    assertEquals("2", d.next(150 * MS).body());
  }

  @Test
  void aPermanentRefusalIsNotRetried() {
    Deliveries d = outbox(10, 5, 0.5);
    d.offer("a", "1", 0);
    assertEquals(-1, d.failed(d.next(0), 0, false));
    assertEquals(0, d.waiting());
  }

  @Test
  void aFullOutboxDropsItsOldest() {
    Deliveries d = outbox(2, 5, 0.5);
    d.offer("a", "1", 0);
    d.offer("a", "2", 0);
    assertFalse(d.offer("a", "3", 0));
    assertEquals(1, d.dropped());
    assertEquals("2", d.next(0).body());
  }
}
