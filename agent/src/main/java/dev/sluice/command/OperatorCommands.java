package dev.sluice.command;

import dev.sluice.config.JobConfig;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.rollback.Rollback;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The one path of an operator's command, whichever way it came (a REST call, a dashboard command
 * over the WebSocket, the CLI): {@link OperatorCommand#parse} validates it, this class finds the job,
 * runs the command (a ledger statement with its own event, such as {@code job.paused}) and records
 * the command itself in the audit trail as {@code control.<action>}: who asked, from which address,
 * the validated arguments and the outcome's status. Authentication happens before this class is
 * reached ({@code http.BearerAuth}; the CLI needs the database's credentials).
 *
 * <p>Where the job is: on an agent ({@link #onAgent}: REST, WebSocket) the job must run on that agent,
 * and the command takes effect there at once and on the other agents through the ledger; from the CLI
 * ({@link #onLedger}) the job need only be in the ledger, and running agents take the command up
 * within a second or two.
 */
public final class OperatorCommands {
  /** The actions this agent can perform; the dashboard disables the buttons of the others. */
  public static final List<String> AVAILABLE = OperatorCommand.ACTIONS;
  /** Actions the dashboard knows that this build does not provide yet. */
  public static final Map<String, String> UNAVAILABLE = Map.of();
  /** An agent answers a rollback that is still going after this long with 202 (it goes on, paced). */
  static final long ROLLBACK_WAIT_MS = 1500;

  /** Runs a rollback of a job ({@code rowsPerSecond} null: the job's configured delete pace). */
  public interface Rollbacks {
    Future<Rollback.Outcome> run(String job, String reason, Double rowsPerSecond, boolean force);
  }

  /** The job a command acts on: running here ({@code local}), or known from the ledger only. */
  private record Target(String name, Migrator local, Ledger.JobRow row) {}

  private final Vertx vertx;
  private final Ledger ledger;
  private final Function<String, Migrator> local;
  private final Function<String, JobConfig> configs;
  private final Rollbacks rollbacks;

  private OperatorCommands(Vertx vertx, Ledger ledger, Function<String, Migrator> local, Function<String, JobConfig> configs,
      Rollbacks rollbacks) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.local = local;
    this.configs = configs;
    this.rollbacks = rollbacks;
  }

  /** Commands on the jobs running on this agent ({@code jobs}: name to its migrator, null when not here). */
  public static OperatorCommands onAgent(Vertx vertx, Ledger ledger, Function<String, Migrator> jobs, Rollbacks rollbacks) {
    return new OperatorCommands(vertx, ledger, jobs, name -> {
      Migrator m = jobs.apply(name);
      return m == null ? null : m.config();
    }, rollbacks);
  }

  /** Commands on any job in the ledger ({@code configs}: the job's config when the file has it, else null). */
  public static OperatorCommands onLedger(Vertx vertx, Ledger ledger, Function<String, JobConfig> configs, Rollbacks rollbacks) {
    return new OperatorCommands(vertx, ledger, null, configs, rollbacks);
  }

  public static JsonObject capabilities() {
    JsonObject unavailable = new JsonObject();
    UNAVAILABLE.forEach(unavailable::put);
    return new JsonObject().put("available", new JsonArray(AVAILABLE)).put("unavailable", unavailable);
  }

  /**
   * Runs {@code action} with {@code args} on {@code job}. {@code actor} names who asked (for example
   * {@code "dashboard from 10.0.0.7:53122"}), {@code client} the address it came from (null: none).
   * Never fails: a ledger that cannot be reached is an outcome (503).
   */
  public Future<CommandOutcome> run(String job, String action, JsonObject args, String actor, String client) {
    OperatorCommand command;
    try {
      command = OperatorCommand.parse(action, args);
    } catch (OperatorCommand.Invalid e) {
      return done(400, e.getMessage());
    }
    return find(job)
        .compose(t -> t == null ? done(404, local != null ? "no job \"" + job + "\" runs on this agent" : "the ledger has no job \"" + job + "\"")
            : execute(t, command, actor).compose(out -> audit(t.name(), command, actor, client, out)))
        .recover(e -> done(503, "ledger unreachable: " + ErrorClassifier.describe(e)));
  }

  private Future<Target> find(String job) {
    if (job == null) return Future.succeededFuture();
    if (local != null) {
      Migrator m = local.apply(job);
      return Future.succeededFuture(m == null ? null : new Target(job, m, null));
    }
    return ledger.job(job).map(row -> row == null ? null : new Target(job, null, row));
  }

  private Future<CommandOutcome> execute(Target t, OperatorCommand command, String actor) {
    if (command instanceof OperatorCommand.Pause p) {
      return paused(t, true, p.reason(), actor).map(v -> new CommandOutcome(200,
          "job " + t.name() + " paused" + (p.reason() == null ? "" : ": " + p.reason()),
          new JsonObject().put("paused", true).put("reason", p.reason())));
    }
    if (command instanceof OperatorCommand.Resume) {
      return paused(t, false, null, actor).map(v -> new CommandOutcome(200, "job " + t.name() + " resumed",
          new JsonObject().put("paused", false)));
    }
    if (command instanceof OperatorCommand.Pace p) return pace(t, p.rowsPerSecond(), actor);
    if (command instanceof OperatorCommand.Retry r) return retry(t, r.segment(), actor);
    if (command instanceof OperatorCommand.Abort a) return abort(t, a.reason(), actor);
    if (command instanceof OperatorCommand.Rollback r) return rollback(t, r, actor);
    return new ConsistencyLedger(ledger.pool(), actor).requestComplete(t.name()).map(asked -> asked
        ? new CommandOutcome(200, "job " + t.name() + ": completion requested; it completes once in sync and verified",
            new JsonObject().put("completeRequested", true))
        : new CommandOutcome(409, "job " + t.name() + " is not running (or completion was already requested); see `sluice status`"));
  }

  private Future<Void> paused(Target t, boolean pause, String reason, String actor) {
    return t.local() != null ? t.local().setPaused(pause, reason, actor) : ledger.setPaused(t.name(), pause, reason, actor);
  }

  private Future<CommandOutcome> pace(Target t, Double rate, String actor) {
    JobConfig job = configs.apply(t.name());
    long burst = rate == null ? 1 : Math.max(job == null ? JobConfig.DEFAULT_BATCH_ROWS : job.batchRows(), (long) Math.ceil(rate));
    String what = rate == null ? "unpaced" : "paced at " + fmt(rate) + " rows/s";
    Double before = t.local() == null ? null : t.local().budget().rowsPerSecond();
    // The budget is the whole job's: recorded in the ledger, every agent takes it up at its next heartbeat.
    return ledger.roster().setBudget(t.name(), rate, burst, actor, "job " + t.name() + " " + what + " by " + actor, before).map(v -> {
      if (t.local() != null) t.local().overrideRate(rate, burst);
      return new CommandOutcome(200, "job " + t.name() + " " + what + " (all agents)", new JsonObject().put("rowsPerSecond", rate)
          .put("effectiveRowsPerSecond", t.local() == null ? null : t.local().pacer().rate()));
    });
  }

  private Future<CommandOutcome> retry(Target t, Integer seq, String actor) {
    Future<Integer> queued = t.local() != null ? t.local().retry(seq, actor) : ledger.retryFailed(t.name(), seq, actor);
    return queued.map(n -> n > 0
        ? new CommandOutcome(200, "queued " + n + " segment" + (n == 1 ? "" : "s") + " of job " + t.name() + " for retry",
            new JsonObject().put("queued", n))
        : new CommandOutcome(409, seq == null ? "job " + t.name() + " has no failed segment"
            : "segment " + seq + " of job " + t.name() + " is not failed (only failed segments can be retried)",
            new JsonObject().put("queued", 0)));
  }

  private Future<CommandOutcome> abort(Target t, String reason, String actor) {
    Future<Boolean> aborted;
    if (t.local() != null) {
      aborted = t.local().abort(reason, actor);
    } else if (t.row().state().ended()) {
      aborted = Future.succeededFuture(false);
    } else {
      aborted = ledger.setJobState(t.name(), JobState.ABORTED, Migrator.abortReason(actor, reason))
          .compose(v -> ledger.job(t.name()))
          .map(row -> row != null && row.state() == JobState.ABORTED);
    }
    return aborted.compose(ok -> ok
        ? Future.succeededFuture(new CommandOutcome(200, "job " + t.name() + " aborted; everything written so far is kept "
            + "(roll back to undo it)", new JsonObject().put("aborted", true)))
        : ledger.job(t.name()).map(row -> new CommandOutcome(409, "job " + t.name() + " has already ended ("
            + (row == null ? "gone" : row.state().db()) + "): nothing to abort")));
  }

  /**
   * On an agent, answers with the rollback's outcome when it ends within {@value #ROLLBACK_WAIT_MS} ms
   * (a refusal always does), else 202: it goes on, paced, and the heatmap and audit log follow it.
   * From the CLI, waits for the end.
   */
  private Future<CommandOutcome> rollback(Target t, OperatorCommand.Rollback r, String actor) {
    Promise<CommandOutcome> answer = Promise.promise();
    rollbacks.run(t.name(), "requested by " + actor, r.rowsPerSecond(), r.force()).onComplete(ar -> answer.tryComplete(ar.succeeded()
        ? new CommandOutcome(200, rolledBack(ar.result()), new JsonObject().put("rolledBack", true))
        : ar.cause() instanceof Rollback.Refused ? new CommandOutcome(409, ar.cause().getMessage())
        : new CommandOutcome(500, "rollback of job " + t.name() + " interrupted: " + ErrorClassifier.describe(ar.cause())
            + "; run it again to finish")));
    if (local != null) {
      vertx.setTimer(ROLLBACK_WAIT_MS, x -> answer.tryComplete(new CommandOutcome(202, "rollback of job " + t.name()
          + " started; it continues paced (follow it in the heatmap and the audit log)")));
    }
    return answer.future();
  }

  /** What rollback and cleanup leave on the source; true of a job with trigger, logical or no capture alike. */
  public static final String SOURCE_CLEAN = "capture removed from the source: nothing of the job's is left there (trigger, slot, publication, changelog)";

  private static String rolledBack(Rollback.Outcome o) {
    if (o.alreadyDone()) return "job " + o.job() + ": already rolled back; capture is removed from the source";
    return "job " + o.job() + ": rolled back: " + (o.tableDropped() ? "target table dropped (Sluice created it)"
        : o.rowsDeleted() + " rows deleted from " + o.segments() + " segments") + "; " + SOURCE_CLEAN;
  }

  /** The command's own audit event, besides the event of the state change it caused. */
  private Future<CommandOutcome> audit(String job, OperatorCommand command, String actor, String client, CommandOutcome out) {
    JsonObject details = command.args().put("status", out.status());
    if (client != null) details.put("client", client);
    return ledger.event(job, null, "control." + command.action(), "control " + command.action() + " on job " + job + " by " + actor,
        details).map(out);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static Future<CommandOutcome> done(int status, String message) {
    return Future.succeededFuture(new CommandOutcome(status, message));
  }
}
