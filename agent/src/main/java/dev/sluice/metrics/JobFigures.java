package dev.sluice.metrics;

import dev.sluice.traffic.FinishWatch;
import java.util.List;
import java.util.Map;

/** A job's figures as the ledger holds them (all agents), refreshed once a second by {@link LiveView}. */
public record JobFigures(Map<String, Integer> segmentsByState, long rowsPlanned, long rowsDone, Eta.Range eta, FinishWatch.Finish finish) {
  static final List<String> SEGMENT_STATES = List.of("pending", "copying", "copied", "verified", "failed", "rolling_back", "rolled_back");
  static final JobFigures NONE = new JobFigures(Map.of(), 0, 0, Eta.Range.UNKNOWN, null);

  /** The finish date's bound ({@code at}, {@code earliest}, {@code latest}) in Unix seconds; NaN when unknown. */
  public double finishSeconds(String bound) {
    if (finish == null) return Double.NaN;
    java.time.Instant t = switch (bound) {
      case "earliest" -> finish.earliest();
      case "latest" -> finish.latest();
      default -> finish.at();
    };
    return t == null ? Double.NaN : t.toEpochMilli() / 1000.0;
  }

  /** How far the finish date moved (seconds later, negative: earlier) since an hour ago; NaN until there is a trend. */
  public double finishTrendSeconds() {
    return finish == null ? Double.NaN : finish.trendSeconds();
  }

  public int segments(String state) {
    return segmentsByState.getOrDefault(state, 0);
  }
}
