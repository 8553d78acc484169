package dev.sluice.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  private final CircuitBreaker b = new CircuitBreaker(3, 1_000, 4_000);

  @Test
  void opensAfterConsecutiveFailuresAndASuccessResetsTheCount() {
    b.onFailure("x", 0);
    b.onFailure("x", 0);
    b.onSuccess();
    assertFalse(b.onFailure("x", 0));
    assertFalse(b.onFailure("x", 0));
    assertEquals(CircuitBreaker.State.CLOSED, b.state(0));
    assertTrue(b.onFailure("08006 refused", 10));
    assertEquals(CircuitBreaker.State.OPEN, b.state(10));
    assertEquals("08006 refused", b.lastError());
  }

  @Test
  void halfOpenProbeClosesOrReopensWithALongerWait() {
    for (int i = 0; i < 3; i++) b.onFailure("x", 0);
    assertEquals(CircuitBreaker.State.HALF_OPEN, b.state(1_000));
    b.onFailure("still down", 1_000);
    assertEquals(CircuitBreaker.State.OPEN, b.state(2_999));
    assertEquals(CircuitBreaker.State.HALF_OPEN, b.state(3_000));
    b.onFailure("still down", 3_000);
    b.onFailure("still down", 7_000);
    assertEquals(CircuitBreaker.State.OPEN, b.state(10_999)); // capped at 4,000
    assertEquals(CircuitBreaker.State.HALF_OPEN, b.state(11_000));
    b.onSuccess();
    assertEquals(CircuitBreaker.State.CLOSED, b.state(11_000));
  }
}
