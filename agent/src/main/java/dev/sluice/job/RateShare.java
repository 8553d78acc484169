package dev.sluice.job;

/**
 * One agent's share of a job's rate budget. The budget ({@code rowsPerSecond}, {@code burstRows})
 * is for the job as a whole; {@code agents} agents share it, so this agent's pacer gets
 * {@code rowsPerSecond / agents} and {@code burstRows / agents} (at least one row). A null rate
 * means unpaced, shared or not. Pure.
 */
public record RateShare(Double rowsPerSecond, long burstRows, int agents, Double shareRowsPerSecond, long shareBurstRows) {
  public RateShare(Double rowsPerSecond, long burstRows, int agents) {
    this(rowsPerSecond, burstRows, Math.max(1, agents),
        rowsPerSecond == null ? null : rowsPerSecond / Math.max(1, agents),
        Math.max(1, burstRows / Math.max(1, agents)));
  }

  public RateShare withAgents(int n) {
    return new RateShare(rowsPerSecond, burstRows, n);
  }
}
