package dev.sluice.command;

import dev.sluice.job.Migrator;
import dev.sluice.ledger.Ledger;
import dev.sluice.rollback.Rollback;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * What an operator can do to a running job, whichever way the request came (a dashboard command over
 * the WebSocket, or a REST call): pause, resume, set the rate, retry parked segments, abort, roll back. Each action
 * is recorded in the audit trail with who asked and from which address. Authentication happens
 * before this class is reached ({@link BearerAuth}).
 */
public final class OperatorCommands {
  /** The actions this agent can perform; the dashboard disables the buttons of the others. */
  public static final List<String> AVAILABLE = List.of("pause", "resume", "pace", "retry", "abort", "rollback");
  /** Actions the dashboard knows that this build does not provide yet. */
  public static final Map<String, String> UNAVAILABLE = Map.of();
  private static final long ROLLBACK_WAIT_MS = 1500;

  /** An action's outcome: an HTTP-like status and a sentence for the operator. */
  public record Outcome(int status, String message) {
    public boolean ok() {
      return status < 300;
    }

    public JsonObject json() {
      return new JsonObject().put("ok", ok()).put("status", status).put("message", message);
    }
  }

  private final Ledger ledger;
  private final Supplier<Map<String, Migrator>> migrators;
  private final Vertx vertx;
  private final BiFunction<String, String, Future<Rollback.Outcome>> rollback;

  /** {@code rollback}: (job, reason) to the rollback's outcome (the agent's own, paced and resumable). */
  public OperatorCommands(Vertx vertx, Ledger ledger, Supplier<Map<String, Migrator>> migrators,
      BiFunction<String, String, Future<Rollback.Outcome>> rollback) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.migrators = migrators;
    this.rollback = rollback;
  }

  public static JsonObject capabilities() {
    JsonObject unavailable = new JsonObject();
    UNAVAILABLE.forEach(unavailable::put);
    return new JsonObject().put("available", new JsonArray(AVAILABLE)).put("unavailable", unavailable);
  }

  /**
   * Runs {@code action} on {@code job}. {@code args}: {@code reason} (pause), {@code rowsPerSecond}
   * (pace; null or 0 removes the limit), {@code segment} (retry; absent retries every parked one).
   * {@code actor} names who asked, e.g. {@code "dashboard from 10.0.0.7:53122"}.
   */
  public Future<Outcome> run(String action, String job, JsonObject args, String actor) {
    if (action == null) return done(400, "missing \"action\"");
    if (UNAVAILABLE.containsKey(action)) return done(501, UNAVAILABLE.get(action));
    if (!AVAILABLE.contains(action)) return done(400, "unknown action \"" + action + "\" (known: " + AVAILABLE + ")");
    Migrator m = job == null ? null : migrators.get().get(job);
    if (m == null) return done(404, "no job \"" + job + "\" runs on this agent");
    if (RequestGuard.hasNul(args)) return done(400, "arguments must not contain NUL (\\u0000)");
    try {
      return switch (action) {
        case "pause" -> pause(m, args.getString("reason"), actor);
        case "resume" -> m.setPaused(false, null, actor).map(v -> new Outcome(200, "job " + job + " resumed"));
        case "pace" -> pace(m, args.getValue("rowsPerSecond"), actor);
        case "retry" -> retry(m, args.getValue("segment"), actor);
        case "abort" -> abort(m, args.getString("reason"), actor);
        case "rollback" -> rollback(m, actor);
        default -> done(400, "unknown action \"" + action + "\"");
      };
    } catch (ClassCastException e) {
      return done(400, "bad argument for " + action + ": " + e.getMessage());
    }
  }

  private Future<Outcome> pause(Migrator m, String reason, String actor) {
    String why = reason == null || reason.isBlank() ? "paused by " + actor : reason.strip();
    if (why.length() > 500) return done(400, "reason must be at most 500 characters");
    return m.setPaused(true, why, actor).map(v -> new Outcome(200, "job " + m.name() + " paused: " + why));
  }

  private Future<Outcome> abort(Migrator m, String reason, String actor) {
    if (reason != null && reason.length() > 500) return done(400, "reason must be at most 500 characters");
    return m.abort(reason == null || reason.isBlank() ? null : reason.strip(), actor).map(aborted -> aborted
        ? new Outcome(200, "job " + m.name() + " aborted; everything written so far is kept (roll back to undo it)")
        : new Outcome(409, "job " + m.name() + " has already ended (" + m.state().db() + "): nothing to abort"));
  }

  private Future<Outcome> pace(Migrator m, Object value, String actor) {
    Double rate;
    if (value == null) {
      rate = null;
    } else if (value instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() <= 1e9 && !Double.isNaN(n.doubleValue())) {
      rate = n.doubleValue() == 0 ? null : n.doubleValue();
    } else {
      return done(400, "rowsPerSecond must be a number between 0 and 1e9 (0 or null: unpaced)");
    }
    Double before = m.budget().rowsPerSecond();
    long burst = rate == null ? 1 : Math.max(m.config().batchRows(), (long) Math.ceil(rate));
    String what = rate == null ? "unpaced" : "paced at " + fmt(rate) + " rows/s";
    // The budget is the whole job's: recorded in the ledger, every agent takes it up at its next heartbeat.
    return ledger.roster().setBudget(m.name(), rate, burst, actor, "job " + m.name() + " " + what + " by " + actor, before)
        .map(v -> {
          m.overrideRate(rate, burst);
          return new Outcome(200, "job " + m.name() + " " + what + " (all agents)");
        });
  }

  private Future<Outcome> retry(Migrator m, Object segment, String actor) {
    Integer seq;
    if (segment == null) {
      seq = null;
    } else if (segment instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.longValue() >= 0
        && n.longValue() <= Integer.MAX_VALUE) {
      seq = n.intValue();
    } else {
      return done(400, "segment must be a whole number");
    }
    return m.retry(seq, actor).map(n -> n == 0
        ? new Outcome(409, seq == null ? "job " + m.name() + " has no failed segments" : "segment " + seq + " is not failed")
        : new Outcome(200, n + " segment" + (n == 1 ? "" : "s") + " of job " + m.name() + " queued for retry"));
  }

  /**
   * Starts a rollback; answers with its outcome when it ends within 1.5 s (a refusal always does),
   * else 202: it goes on, paced, and the heatmap and audit log follow it.
   */
  private Future<Outcome> rollback(Migrator m, String actor) {
    Future<Rollback.Outcome> run = rollback.apply(m.name(), "rolled back from the " + actor);
    Promise<Outcome> answer = Promise.promise();
    run.onComplete(ar -> answer.tryComplete(ar.succeeded()
        ? new Outcome(200, "job " + m.name() + " rolled back: " + ar.result().rowsDeleted() + " rows deleted"
            + (ar.result().tableDropped() ? ", target table dropped" : ""))
        : new Outcome(ar.cause() instanceof Rollback.Refused ? 409 : 500, "rollback of job " + m.name() + " failed: "
            + dev.sluice.resilience.ErrorClassifier.describe(ar.cause()))));
    vertx.setTimer(ROLLBACK_WAIT_MS, t -> answer.tryComplete(new Outcome(202, "rollback of job " + m.name()
        + " started; it continues paced (follow it in the heatmap and the audit log)")));
    return answer.future();
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static Future<Outcome> done(int status, String message) {
    return Future.succeededFuture(new Outcome(status, message));
  }
}
