package dev.sluice.resilience;

/** What to do about an error: try again later, give up on this segment, or the lease is gone. */
public enum ErrorClass {
  /** Worth retrying with backoff: connection loss, serialization failure, deadlock, shutdown, timeouts. */
  TRANSIENT,
  /** Retrying will fail the same way: bad data, constraint violations, missing objects, syntax. */
  PERMANENT,
  /** Another agent owns the segment now; stop working on it, quietly. */
  FENCED
}
