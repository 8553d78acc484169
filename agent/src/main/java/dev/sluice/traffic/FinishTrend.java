package dev.sluice.traffic;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * How the finish estimate moved: each estimate is kept (one a minute, two hours' worth), and the
 * current one is compared with the one made an hour ago, or, during the first hour, with the oldest
 * one at least {@value #MIN_AGE_MINUTES} minutes old. A move under a minute, or under 1% of the time
 * left, is "unchanged". Pure: the caller passes the time.
 */
public final class FinishTrend {
  static final long MIN_AGE_MINUTES = 5;
  private static final Duration KEEP = Duration.ofHours(2);
  private static final Duration EVERY = Duration.ofMinutes(1);
  private final Deque<Instant[]> samples = new ArrayDeque<>();

  /** The move: seconds later (positive) or earlier (negative) than the estimate {@code sinceSeconds} ago. */
  public record Trend(double secondsLater, double sinceSeconds, String sentence) {}

  /** Records the estimate made at {@code now} (null: unknown) and returns the trend, or null before there is one. */
  public synchronized Trend update(Instant now, Instant finish) {
    if (finish != null && (samples.isEmpty() || !samples.peekLast()[0].plus(EVERY).isAfter(now))) {
      samples.addLast(new Instant[] {now, finish});
    }
    while (!samples.isEmpty() && samples.peekFirst()[0].isBefore(now.minus(KEEP))) samples.removeFirst();
    if (finish == null) return null;
    Instant[] then = null;
    Instant hourAgo = now.minus(Duration.ofHours(1));
    for (Instant[] s : samples) {
      if (!s[0].isAfter(hourAgo)) then = s;
    }
    if (then == null) {
      Instant[] oldest = samples.peekFirst();
      if (oldest == null || oldest[0].isAfter(now.minus(Duration.ofMinutes(MIN_AGE_MINUTES)))) return null;
      then = oldest;
    }
    double later = Duration.between(then[1], finish).toMillis() / 1000.0;
    double since = Duration.between(then[0], now).toMillis() / 1000.0;
    double left = Math.max(0, Duration.between(now, finish).toMillis() / 1000.0);
    String ago = since >= 3300 ? "an hour ago" : Durations.words(since) + " ago";
    String sentence = Math.abs(later) < 60 || Math.abs(later) < 0.01 * left ? "unchanged since " + ago
        : Durations.words(Math.abs(later)) + (later > 0 ? " later" : " earlier") + " than " + ago;
    return new Trend(later, since, sentence);
  }
}
