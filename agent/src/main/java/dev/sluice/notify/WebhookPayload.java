package dev.sluice.notify;

import io.vertx.core.json.JsonObject;

/**
 * What a webhook receives: the event as JSON, plus a {@code text} field, so the same URL can be a
 * Slack (or Mattermost, or Teams workflow) incoming webhook: they show {@code text} and ignore the
 * rest. Nothing secret goes in: no URL with credentials, no token (tokens travel only in the
 * {@code Authorization} header).
 */
public final class WebhookPayload {
  private WebhookPayload() {}

  public static JsonObject of(NotifyEvent e, String agent) {
    return new JsonObject()
        .put("event", e.kind())
        .put("job", e.job())
        .put("at", e.at().toString())
        .put("message", e.message())
        .put("text", "Sluice: " + e.message())
        .put("agent", agent)
        .put("details", e.details());
  }
}
