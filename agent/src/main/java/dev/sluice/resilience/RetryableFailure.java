package dev.sluice.resilience;

/**
 * A failure of one attempt's work that a fresh attempt may not repeat, found by Sluice rather than
 * raised by a database: classified transient (retried with backoff, counted toward
 * {@code retry.maxAttempts}), and never taken for the database being down (no circuit breaker counts it).
 */
public class RetryableFailure extends RuntimeException {
  public RetryableFailure(String message) {
    super(message, null, false, false);
  }
}
