package dev.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * {@code notify}: the webhooks told of each job's milestones, and how long a job must be held (paused,
 * or throttled by health, a breaker or the foreground control) before that is news. A webhook's
 * bearer token is never in the config: it is named, as an environment variable or a file, and read at
 * each post. No webhooks ({@link #NONE}, the default): nothing is posted.
 */
public record NotifyConfig(List<Webhook> webhooks, Duration heldAfter) {
  public static final long DEFAULT_HELD_MINUTES = 10;
  /** The milestones a webhook may ask for ({@code events}); none listed: all of them. */
  public static final List<String> EVENTS = List.of("started", "progress", "throttled", "paused", "segment_parked", "in_sync",
      "verified", "completed", "aborted", "rolled_back");
  public static final NotifyConfig NONE = new NotifyConfig(List.of(), Duration.ofMinutes(DEFAULT_HELD_MINUTES));

  public NotifyConfig {
    webhooks = List.copyOf(webhooks);
  }

  /** A receiver: its URL, the milestones it wants (empty: all), and where its bearer token comes from (both null: none). */
  public record Webhook(String url, Set<String> events, String tokenEnv, String tokenFile) {
    public Webhook {
      events = Set.copyOf(events);
    }
  }
}
