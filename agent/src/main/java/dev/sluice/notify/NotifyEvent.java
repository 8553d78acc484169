package dev.sluice.notify;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * A milestone worth telling someone about. {@code key} identifies it for de-duplication (the same
 * milestone seen by two agents, or again after a restart, is sent once: see the ledger's
 * {@code sluice.notifications}); {@code kind} is what a webhook subscribes to.
 */
public record NotifyEvent(String kind, String key, String job, Instant at, String message, JsonObject details) {
  public static final String STARTED = "started";
  public static final String PROGRESS = "progress";
  public static final String THROTTLED = "throttled";
  public static final String PAUSED = "paused";
  public static final String SEGMENT_PARKED = "segment_parked";
  public static final String IN_SYNC = "in_sync";
  public static final String VERIFIED = "verified";
  public static final String COMPLETED = "completed";
  public static final String ABORTED = "aborted";
  public static final String ROLLED_BACK = "rolled_back";

  /** Every kind, in the order of a job's life: what {@code notify.webhooks[].events} may list. */
  public static final List<String> KINDS = List.of(STARTED, PROGRESS, THROTTLED, PAUSED, SEGMENT_PARKED, IN_SYNC, VERIFIED, COMPLETED,
      ABORTED, ROLLED_BACK);

  public NotifyEvent {
    details = details == null ? new JsonObject() : details.copy();
  }
}
