package dev.sluice.traffic;

import dev.sluice.traffic.FinishForecast.Rates;
import java.util.Locale;

/**
 * A job's expected rate at each hour of the week: what it achieved there (mean, slowest and fastest
 * whole hour) where the profile has {@value LoadProfile#MIN_RUN_SECONDS} s of run time, else the
 * fallback: the configured rate ({@code pace.rowsPerSecond}, with the last minute's slowest second
 * as its low end), or for an unpaced job the last minute's mean, slowest and fastest second.
 * No history and no fallback: nothing expected (the finish is unknown). Pure.
 */
public final class JobRates implements FinishForecast.RateModel {
  private final LoadProfile.JobCell[] cells;
  private final Rates fallback;
  private final String fallbackName;

  private JobRates(LoadProfile.JobCell[] cells, Rates fallback, String fallbackName) {
    this.cells = cells;
    this.fallback = fallback;
    this.fallbackName = fallbackName;
  }

  /**
   * @param cells the job's cells in the profile (null: no history)
   * @param configured {@code pace.rowsPerSecond}, null when unpaced
   * @param recent the last minute's rates (mean, slowest, fastest second), or null while unknown
   */
  public static JobRates of(LoadProfile.JobCell[] cells, Double configured, Rates recent) {
    if (configured != null) {
      double low = recent == null || Double.isNaN(recent.low()) ? configured : Math.min(configured, recent.low());
      return new JobRates(cells, new Rates(configured, low, configured),
          String.format(Locale.ROOT, "the configured rate (%.0f rows/s)", configured));
    }
    if (recent != null && recent.mid() > 0) {
      return new JobRates(cells, recent, String.format(Locale.ROOT, "the last minute's rate (%.0f rows/s)", recent.mid()));
    }
    return new JobRates(cells, null, null);
  }

  @Override
  public Rates at(int hourOfWeek) {
    if (cells != null && cells[hourOfWeek].trusted()) {
      LoadProfile.JobCell c = cells[hourOfWeek];
      return new Rates(c.rate(), c.low(), c.high());
    }
    return fallback;
  }

  /** Hours of the week that have history. */
  public int historyHours() {
    int n = 0;
    if (cells != null) for (LoadProfile.JobCell c : cells) if (c.trusted()) n++;
    return n;
  }

  /** What the estimate rests on, for an operator. */
  public String basis() {
    int h = historyHours();
    if (h == HourOfWeek.HOURS) return "the rate achieved at each hour of the week";
    if (h == 0) return fallbackName == null ? "nothing yet (no history, no configured rate)" : fallbackName;
    return "the rate achieved in " + h + " of 168 hours of the week" + (fallbackName == null ? " (the others: unknown)" : ", " + fallbackName + " in the others");
  }
}
