package dev.sluice.job;

import dev.sluice.capture.ChangeApplier;
import dev.sluice.capture.WalFigures;

/**
 * One job's live figures on this agent, read in one place ({@link Migrator#live}) for every reader:
 * {@code GET /api/jobs}, the dashboard's snapshot and the job's meters at {@code /metrics}.
 * {@code concurrencyLimit} and {@code batchRows} are the adaptive values in force (not the configured
 * maxima); {@code rateLimit} is this agent's pacer, {@code rateBudget} the job's budget for all its
 * agents, {@code baseRate} this agent's share of it before the health factor. {@code backlog} is null
 * without change capture. {@code waitingReason} is null while the job runs; {@code waitCode} says what
 * holds it ({@code paused}, {@code breaker}, {@code window}, {@code health}). {@code writeSeconds}: time
 * spent writing batches so far. {@code wal}: logical capture's figures on this agent (null in trigger
 * mode or without capture).
 */
public record LiveFigures(
    String agentId,
    long rowsWritten,
    double rowsPerSecond,
    int inFlight,
    long retries,
    Double rateLimit,
    Double rateBudget,
    Double baseRate,
    double rateFactor,
    String rateReason,
    int concurrencyLimit,
    int batchRows,
    boolean paused,
    String waitingReason,
    String waitCode,
    double writeSeconds,
    boolean serverSide,
    ChangeApplier.Backlog backlog,
    WalFigures wal) {}
