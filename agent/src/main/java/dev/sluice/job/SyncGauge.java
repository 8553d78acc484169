package dev.sluice.job;

import dev.sluice.ledger.JobState;

/**
 * Decides between catching up and in sync from the backlog (pure; no clock). In sync when the backlog
 * is at most {@code inSyncRows}; back to catching up only when it exceeds ten times that (at least
 * 1,000 rows), so a burst of writes does not make the state flap.
 */
public final class SyncGauge {
  public enum Move { NONE, IN_SYNC, CATCHING_UP }

  private final long inSyncRows;
  private final long fallBehindRows;

  public SyncGauge(long inSyncRows) {
    this.inSyncRows = inSyncRows;
    this.fallBehindRows = Math.max(1_000, inSyncRows * 10);
  }

  /** {@code backlog} is -1 while not yet measured. */
  public Move next(JobState state, long backlog) {
    if (backlog < 0) return Move.NONE;
    if (state == JobState.CATCHING_UP && backlog <= inSyncRows) return Move.IN_SYNC;
    if (state == JobState.IN_SYNC && backlog > fallBehindRows) return Move.CATCHING_UP;
    return Move.NONE;
  }
}
