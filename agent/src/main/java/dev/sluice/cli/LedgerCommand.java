package dev.sluice.cli;

import dev.sluice.command.CommandOutcome;
import dev.sluice.command.OperatorCommands;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.Ledger;
import dev.sluice.outlook.FinalReports;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.rollback.Rollback;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import java.util.Map;

/**
 * An operator command from the CLI ({@code retry}, {@code abort}, {@code rollback}, {@code complete}): the same path
 * and rules as a REST call or a dashboard command ({@link OperatorCommands}), acting on the ledger
 * (running agents take it up within a second or two). The outcome becomes a line and an exit code:
 * done 0, refused or invalid 2 ({@link ExitCode#BAD_CONFIG}), failed 3. An abort or a rollback
 * ends by storing the job's final report ({@link FinalReports#storeForLatest}).
 */
final class LedgerCommand {
  private LedgerCommand() {}

  /** Who asks, for the audit trail: {@code cli (<os user>)}. */
  static String actor() {
    return "cli (" + System.getProperty("user.name", "unknown") + ")";
  }

  /** The job state an action ends a job in, whose final report the CLI stores. */
  private static final Map<String, String> ENDINGS = Map.of("abort", JobState.ABORTED.db(), "rollback", JobState.ROLLED_BACK.db());

  /**
   * After an abort or a rollback that succeeded, stores the job's final report (no agent may be
   * running to do it; when one is, the first to claim it stores it). A report that cannot be stored
   * is said, and the command's own outcome stands.
   */
  private static Future<CommandOutcome> storeReport(TargetSession x, SluiceConfig cfg, String job, String action, CommandOutcome done,
      PrintWriter err) {
    String outcome = ENDINGS.get(action);
    if (done == null || !done.ok() || outcome == null) return Future.succeededFuture(done);
    return FinalReports.storeForLatest(x.target, cfg, actor(), job, outcome)
        .otherwise(e -> {
          err.println("sluice: warning: the final report of job " + job + " could not be stored (" + ErrorClassifier.describe(e)
              + "); `sluice report` builds it from the ledger");
          return false;
        })
        .map(done);
  }

  /** A command's whole run: its config loaded (or the config error said), then {@code action} on {@code job} in session {@code sluice-<action>}. */
  static int run(ConfigOption config, CommandSpec spec, String job, String action, JsonObject args) {
    PrintWriter err = spec.commandLine().getErr();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return ExitCode.BAD_CONFIG;
    return run(cfg, "sluice-" + action, job, action, args, spec.commandLine().getOut(), err);
  }

  static int run(SluiceConfig cfg, String session, String job, String action, JsonObject args, PrintWriter out, PrintWriter err) {
    try (TargetSession s = new TargetSession(cfg, session)) {
      CommandOutcome o = s.runIfLedger(x -> OperatorCommands.onLedger(x.vertx, new Ledger(x.target, cfg.agent().id()),
              name -> cfg.job(name).orElse(null), (name, reason, rate, force) -> new Rollback(x.vertx, x.source, x.target, actor(), System::nanoTime)
                  .run(name, reason, rate != null ? rate : cfg.job(name).map(JobConfig::rollback).map(JobConfig.Rollback::rowsPerSecond)
                      .orElse(null), force))
          .run(job, action, args, actor(), null)
          .compose(done -> storeReport(x, cfg, job, action, done, err)));
      if (o == null) {
        err.println("sluice: no ledger in " + cfg.target().redacted() + ": no job has run there yet");
        return ExitCode.BAD_CONFIG;
      }
      if (o.ok()) {
        out.println(o.message());
        return ExitCode.OK;
      }
      err.println("sluice: " + o.message());
      return o.status() >= 500 ? ExitCode.RUNTIME_FAILURE : ExitCode.BAD_CONFIG;
    } catch (RuntimeException e) {
      err.println("sluice: cannot reach the ledger in " + cfg.target().redacted() + ": " + ErrorClassifier.describe(e));
      return ExitCode.RUNTIME_FAILURE;
    } finally {
      out.flush();
      err.flush();
    }
  }
}
