package dev.sluice.config;

import java.time.Duration;

/**
 * Caps on every session the agent opens. Server-side ({@code statement_timeout} and
 * {@code idle_in_transaction_session_timeout}): whatever goes wrong in the agent, PostgreSQL itself
 * ends a statement or an idle transaction of Sluice's that runs too long. Client-side
 * ({@code stallTimeout}): a COPY session whose database answered nothing for that long while Sluice
 * waited on it (a network partition, a frozen host: the server cannot end anything then) is aborted
 * by the agent, and its segment fails and is retried. {@code nice}: the CPU priority (0 to 19, 0
 * leaves it alone) of the agent's threads and, where the database shares its host, of the server
 * processes of its sessions ({@link dev.sluice.db.BackendPriority}).
 */
public record SessionLimits(Duration statementTimeout, Duration idleInTransactionTimeout, Duration stallTimeout, int nice) {
  public static final long DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
  public static final long DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
  public static final long DEFAULT_STALL_TIMEOUT_MS = 60_000;
  /** Off by default: measured first (benchmarks, arm 3). */
  public static final int DEFAULT_NICE = 0;
  /** The smallest stall timeout: below it a busy server's ordinary pauses would look like stalls. */
  public static final long MIN_STALL_TIMEOUT_MS = 1_000;
  public static final SessionLimits NONE = new SessionLimits(Duration.ZERO, Duration.ZERO);

  public SessionLimits {
    if (stallTimeout.toMillis() < MIN_STALL_TIMEOUT_MS) throw new IllegalArgumentException("stallTimeout must be at least 1 s");
    if (nice < 0 || nice > 19) throw new IllegalArgumentException("nice must be between 0 and 19");
  }

  /** The caps at the agent's own priority ({@code nice} 0: see {@link dev.sluice.db.BackendPriority}). */
  public SessionLimits(Duration statementTimeout, Duration idleInTransactionTimeout, Duration stallTimeout) {
    this(statementTimeout, idleInTransactionTimeout, stallTimeout, 0);
  }

  /** The server-side caps, with the default stall timeout. */
  public SessionLimits(Duration statementTimeout, Duration idleInTransactionTimeout) {
    this(statementTimeout, idleInTransactionTimeout, Duration.ofMillis(DEFAULT_STALL_TIMEOUT_MS));
  }
}
