package dev.sluice.metrics;

import java.util.List;
import java.util.Map;

/** A job's figures as the ledger holds them (all agents), refreshed once a second by {@link LiveView}. */
public record JobFigures(Map<String, Integer> segmentsByState, long rowsPlanned, long rowsDone, Eta.Range eta) {
  static final List<String> SEGMENT_STATES = List.of("pending", "copying", "copied", "verified", "failed", "rolling_back", "rolled_back");
  static final JobFigures NONE = new JobFigures(Map.of(), 0, 0, Eta.Range.UNKNOWN);

  public int segments(String state) {
    return segmentsByState.getOrDefault(state, 0);
  }
}
