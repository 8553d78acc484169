package dev.sluice.resilience;

/**
 * A database that answered nothing for the stall timeout while the agent waited on it: found by the
 * agent, since a network partition or a frozen host sends no reset and no error ever comes. Its
 * session was aborted. Transient (retried with backoff), and a connection loss: the database's
 * circuit breaker counts it. Its message says which side stalled, for how long and on what.
 */
public final class DatabaseStalled extends RuntimeException {
  public DatabaseStalled(String message) {
    super(message, null, false, false);
  }
}
