package dev.sluice.traffic;

import dev.sluice.pace.Schedule;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each job's finish date, worked out once a second for every reader (the dashboard's snapshot,
 * {@code GET /api/jobs}, {@code /metrics}): {@link FinishForecast} over the job's {@link JobRates}
 * (its learned hours, handed in by {@link #history}, else the configured or last minute's rate),
 * with its {@link FinishTrend}. A job that is done, paused or failed has no finish date, and says
 * why. The last minute's rate a job had is kept, so an unpaced job in a closed window still has a
 * rate to go by. The caller passes the time.
 */
public final class FinishWatch {
  /**
   * A job's finish: {@code at} null when unknown ({@code said} says why); {@code noEarlierThan}: the
   * window is closed now and opens then. {@code trend} null until there is one; {@code trendSeconds}
   * its move in seconds (later positive, earlier negative; NaN until there is one).
   */
  public record Finish(Instant at, Instant earliest, Instant latest, Instant noEarlierThan, String said, String trend, double trendSeconds,
      String basis) {
    public static Finish none(String said) {
      return new Finish(null, null, null, null, said, null, Double.NaN, null);
    }

    /** The finish as {@code /api/jobs} and the dashboard show it (ISO 8601 instants, UTC). */
    public JsonObject json() {
      return new JsonObject().put("at", iso(at)).put("earliest", iso(earliest)).put("latest", iso(latest))
          .put("windowClosed", noEarlierThan != null).put("noEarlierThan", iso(noEarlierThan)).put("said", said).put("trend", trend)
          .put("trendSeconds", Double.isNaN(trendSeconds) ? null : trendSeconds).put("basis", basis);
    }

    private static String iso(Instant i) {
      return i == null ? null : i.toString();
    }
  }

  /** What the watch needs of a job, this second. {@code recent}: the last minute's rates, null while unknown. */
  public record JobNow(String job, String state, boolean paused, long remaining, Schedule schedule, Double configuredRate,
      FinishForecast.Rates recent) {}

  private final Map<String, FinishTrend> trends = new ConcurrentHashMap<>();
  private final Map<String, FinishForecast.Rates> lastRecent = new ConcurrentHashMap<>();
  private final Map<String, Finish> latest = new ConcurrentHashMap<>();
  private volatile Map<String, LoadProfile.JobCell[]> cells = Map.of();

  /** The jobs' learned hours (each in its schedule's time zone), refreshed every few minutes by the caller. */
  public void history(Map<String, LoadProfile.JobCell[]> byJob) {
    cells = Map.copyOf(byJob);
  }

  /** The job's finish at {@code now}; also kept as its {@link #latest}. */
  public Finish update(JobNow j, Instant now) {
    Finish f = estimate(j, now);
    latest.put(j.job(), f);
    return f;
  }

  /** The last finish worked out for a job, or null. */
  public Finish latest(String job) {
    return latest.get(job);
  }

  private Finish estimate(JobNow j, Instant now) {
    switch (j.state()) {
      case "completed", "in_sync", "catching_up" -> {
        return Finish.none(j.state().equals("completed") ? "completed" : "every row copied; catching up with the changes");
      }
      case "rolled_back", "rolling_back", "aborted", "failed" -> {
        return Finish.none("no finish date: the job is " + j.state().replace('_', ' '));
      }
      default -> { }
    }
    if (j.paused()) return Finish.none("no finish date while paused (an operator's pause has no end)");
    if (j.recent() != null && j.recent().mid() > 0) lastRecent.put(j.job(), j.recent());
    FinishForecast.Rates recent = lastRecent.get(j.job());
    JobRates rates = JobRates.of(cells.get(j.job()), j.configuredRate(), recent);
    boolean open = j.schedule().allows(now);
    FinishForecast.Estimate e = FinishForecast.estimate(j.remaining(), now, j.schedule(), rates,
        open && j.recent() != null && j.recent().mid() > 0 ? j.recent() : null);
    FinishTrend.Trend t = trends.computeIfAbsent(j.job(), k -> new FinishTrend()).update(now, e.finish());
    String trend = t == null ? null : t.sentence();
    double moved = t == null ? Double.NaN : t.secondsLater();
    if (!e.known()) {
      return new Finish(null, null, null, e.windowOpensAt(), "finish unknown: " + e.note(), trend, moved, rates.basis());
    }
    String zone = j.schedule().zone().getId();
    StringBuilder said = new StringBuilder("finishes around ").append(FinishForecast.local(e.finish(), j.schedule().zone()));
    if (e.latest() == null) {
      said.append(" (no later bound: the slowest hours copied nothing)");
    } else if (!e.earliest().equals(e.finish()) || !e.latest().equals(e.finish())) {
      said.append(" (between ").append(FinishForecast.local(e.earliest(), j.schedule().zone()).replace(" " + zone, ""))
          .append(" and ").append(FinishForecast.local(e.latest(), j.schedule().zone())).append(')');
    }
    said.append(", going by ").append(rates.basis());
    if (!j.schedule().alwaysOpen()) said.append(String.format(Locale.ROOT, ", inside its windows (%s)", j.schedule().describe()));
    if (e.windowOpensAt() != null) {
      said.append("; its window is closed now: no earlier than the next opening, ")
          .append(FinishForecast.local(e.windowOpensAt(), j.schedule().zone()));
    }
    return new Finish(e.finish(), e.earliest(), e.latest(), e.windowOpensAt(), said.toString(), trend, moved, rates.basis());
  }

  /** Forgets jobs no longer in the ledger. */
  public void retain(java.util.Set<String> jobs) {
    trends.keySet().retainAll(jobs);
    lastRecent.keySet().retainAll(jobs);
    latest.keySet().retainAll(jobs);
  }
}
