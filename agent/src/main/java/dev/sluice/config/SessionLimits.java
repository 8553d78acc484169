package dev.sluice.config;

import java.time.Duration;

/**
 * Server-side caps on every session the agent opens ({@code statement_timeout} and
 * {@code idle_in_transaction_session_timeout}): whatever goes wrong in the agent, PostgreSQL itself
 * ends a statement or an idle transaction of Sluice's that runs too long.
 */
public record SessionLimits(Duration statementTimeout, Duration idleInTransactionTimeout) {
  public static final long DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
  public static final long DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
  public static final SessionLimits NONE = new SessionLimits(Duration.ZERO, Duration.ZERO);
}
