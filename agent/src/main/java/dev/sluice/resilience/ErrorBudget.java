package dev.sluice.resilience;

import dev.sluice.config.JobConfig;
import java.util.Locale;

/**
 * A job's abort rule: how many parked (failed) segments it may accumulate, in number or as a share
 * of the segments finished so far, before it is moved to {@code aborted}. A few bad rows park a
 * segment; many mean something is wrong with the job itself, and going on would only waste the
 * databases' time. The share only counts once {@code minFinished} segments are finished.
 */
public record ErrorBudget(Integer maxFailedSegments, Double maxFailedRatio, int minFinished) {
  public static final ErrorBudget UNLIMITED = new ErrorBudget(null, null, 0);

  /** The budget a job's {@code abort} section sets. */
  public static ErrorBudget of(JobConfig.Abort rule) {
    return new ErrorBudget(rule.maxFailedSegments(), rule.maxFailedRatio(), rule.minFinished());
  }

  /** Why the budget is spent, or null while it is not. */
  public String exceeded(int failed, int finished) {
    if (maxFailedSegments != null && failed > maxFailedSegments) {
      return "error budget spent: " + failed + " segments failed, more than the " + maxFailedSegments + " allowed";
    }
    if (maxFailedRatio != null && finished >= Math.max(1, minFinished) && (double) failed / finished > maxFailedRatio) {
      return String.format(Locale.ROOT, "error budget spent: %d of %d finished segments failed (%.0f%%), more than the %.0f%% allowed",
          failed, finished, 100.0 * failed / finished, 100 * maxFailedRatio);
    }
    return null;
  }
}
