package dev.sluice.command;

import io.vertx.core.json.JsonObject;

/**
 * A command's outcome: an HTTP-like status (200 done, 202 under way, 400 invalid, 404 no such job,
 * 409 refused in the job's state, 500 failed, 503 ledger unreachable), a sentence for the operator,
 * and the figures a REST client reads ({@code paused}, {@code queued}, ...). Each way in renders it:
 * REST as its status and body, the WebSocket as a {@code result}, the CLI as an exit code and a line.
 */
public record CommandOutcome(int status, String message, JsonObject fields) {
  public CommandOutcome(int status, String message) {
    this(status, message, new JsonObject());
  }

  public boolean ok() {
    return status < 300;
  }

  /** The WebSocket's result (without its type and id). */
  public JsonObject json() {
    return new JsonObject().put("ok", ok()).put("status", status).put("message", message);
  }

  /** The REST body: the figures, the job, and the sentence as {@code message} (or {@code error} when not ok). */
  public JsonObject body(String job) {
    return fields.copy().put("job", job).put(ok() ? "message" : "error", message);
  }
}
