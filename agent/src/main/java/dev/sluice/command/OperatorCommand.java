package dev.sluice.command;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * An operator's command on one job, validated. {@link #parse} is the one set of rules for every way
 * a command arrives: a REST call's body, a dashboard command over the WebSocket, or the CLI's options
 * (which the CLI turns into the same JSON arguments). docs/runbook.md lists the commands and the rules:
 *
 * <ul>
 *   <li>{@code reason} (pause, abort): optional; a string of at most {@value #MAX_REASON} characters,
 *       trimmed; blank counts as none.
 *   <li>{@code rowsPerSecond} (pace): required; a number above 0 and at most 1e9, or null for
 *       unpaced. 0 is refused: it reads as "stop", which is what pause does.
 *   <li>{@code segment} (retry): optional; a whole number (12 or 12.0) between 0 and 2^31-1; without
 *       it every failed segment is retried.
 *   <li>{@code force} and {@code rowsPerSecond} (rollback): optional; a boolean, and a number above 0
 *       (the delete pace; default the job's {@code rollback.rowsPerSecond}).
 *   <li>No string or field name in the arguments may hold NUL (U+0000): PostgreSQL cannot store it.
 * </ul>
 */
public sealed interface OperatorCommand {
  List<String> ACTIONS = List.of("pause", "resume", "pace", "retry", "abort", "rollback", "complete");
  int MAX_REASON = 500;
  double MAX_RATE = 1e9;

  /** The action's name, as in the REST path and the WebSocket's {@code action}. */
  String action();

  /** The arguments as validated (for the audit event). */
  JsonObject args();

  record Pause(String reason) implements OperatorCommand {
    public String action() {
      return "pause";
    }

    public JsonObject args() {
      return new JsonObject().put("reason", reason);
    }
  }

  record Resume() implements OperatorCommand {
    public String action() {
      return "resume";
    }

    public JsonObject args() {
      return new JsonObject();
    }
  }

  /** {@code rowsPerSecond} null: unpaced. The job's budget for all its agents. */
  record Pace(Double rowsPerSecond) implements OperatorCommand {
    public String action() {
      return "pace";
    }

    public JsonObject args() {
      return new JsonObject().put("rowsPerSecond", rowsPerSecond);
    }
  }

  /** {@code segment} null: every failed segment. */
  record Retry(Integer segment) implements OperatorCommand {
    public String action() {
      return "retry";
    }

    public JsonObject args() {
      return new JsonObject().put("segment", segment);
    }
  }

  record Abort(String reason) implements OperatorCommand {
    public String action() {
      return "abort";
    }

    public JsonObject args() {
      return new JsonObject().put("reason", reason);
    }
  }

  /** {@code rowsPerSecond} null: the job's configured delete pace. */
  record Rollback(boolean force, Double rowsPerSecond) implements OperatorCommand {
    public String action() {
      return "rollback";
    }

    public JsonObject args() {
      return new JsonObject().put("force", force).put("rowsPerSecond", rowsPerSecond);
    }
  }

  record Complete() implements OperatorCommand {
    public String action() {
      return "complete";
    }

    public JsonObject args() {
      return new JsonObject();
    }
  }

  /** A command that breaks the rules: the message says which and what is accepted. */
  final class Invalid extends RuntimeException {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  /** Validates {@code action} with its arguments ({@code args} may be null: none). */
  static OperatorCommand parse(String action, JsonObject args) {
    JsonObject a = args == null ? new JsonObject() : args;
    if (action == null) throw new Invalid("missing \"action\" (one of " + ACTIONS + ")");
    if (hasNul(a)) throw new Invalid("strings must not contain NUL (\\u0000)");
    return switch (action) {
      case "pause" -> new Pause(reason(a));
      case "resume" -> new Resume();
      case "pace" -> {
        if (!a.containsKey("rowsPerSecond")) throw new Invalid("send {\"rowsPerSecond\": N} (N above 0, or null for unpaced)");
        yield new Pace(rate(a.getValue("rowsPerSecond"), "rowsPerSecond must be a number above 0 and at most 1e9, or null for "
            + "unpaced; to stop the job, pause it"));
      }
      case "retry" -> new Retry(segment(a.getValue("segment")));
      case "abort" -> new Abort(reason(a));
      case "rollback" -> {
        Object force = a.getValue("force");
        if (force != null && !(force instanceof Boolean)) throw new Invalid("force must be true or false");
        yield new Rollback(Boolean.TRUE.equals(force), rate(a.getValue("rowsPerSecond"),
            "rowsPerSecond (the delete pace) must be a number above 0 and at most 1e9, or left out"));
      }
      case "complete" -> new Complete();
      default -> throw new Invalid("unknown action \"" + action + "\" (known: " + ACTIONS + ")");
    };
  }

  private static boolean hasNul(Object value) {
    if (value instanceof String s) return s.indexOf('\0') >= 0;
    if (value instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        if (e.getKey().indexOf('\0') >= 0 || hasNul(e.getValue())) return true;
      }
    } else if (value instanceof JsonArray arr) {
      for (Object v : arr) {
        if (hasNul(v)) return true;
      }
    }
    return false;
  }

  private static String reason(JsonObject a) {
    Object r = a.getValue("reason");
    if (r == null) return null;
    if (!(r instanceof String s)) throw new Invalid("reason must be a string");
    if (s.isBlank()) return null;
    String reason = s.strip();
    if (reason.length() > MAX_REASON) throw new Invalid("reason must be at most " + MAX_REASON + " characters");
    return reason;
  }

  private static Double rate(Object v, String rule) {
    if (v == null) return null;
    if (v instanceof Number n && n.doubleValue() > 0 && n.doubleValue() <= MAX_RATE) return n.doubleValue();
    throw new Invalid(rule + " (got " + v + ")");
  }

  private static Integer segment(Object v) {
    if (v == null) return null;
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.doubleValue() >= 0
        && n.doubleValue() <= Integer.MAX_VALUE) {
      return n.intValue();
    }
    throw new Invalid("segment must be a whole number between 0 and " + Integer.MAX_VALUE + " (got " + v + ")");
  }
}
