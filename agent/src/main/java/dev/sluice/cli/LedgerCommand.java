package dev.sluice.cli;

import dev.sluice.command.CommandOutcome;
import dev.sluice.command.OperatorCommands;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.Ledger;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.rollback.Rollback;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;

/**
 * An operator command from the CLI ({@code retry}, {@code rollback}, {@code complete}): the same path
 * and rules as a REST call or a dashboard command ({@link OperatorCommands}), acting on the ledger
 * (running agents take it up within a second or two). The outcome becomes a line and an exit code:
 * done 0, refused or invalid 2 ({@link ExitCode#BAD_CONFIG}), failed 3.
 */
final class LedgerCommand {
  private LedgerCommand() {}

  /** Who asks, for the audit trail: {@code cli (<os user>)}. */
  static String actor() {
    return "cli (" + System.getProperty("user.name", "unknown") + ")";
  }

  static int run(SluiceConfig cfg, String session, String job, String action, JsonObject args, PrintWriter out, PrintWriter err) {
    try (TargetSession s = new TargetSession(cfg, session)) {
      CommandOutcome o = s.runIfLedger(x -> OperatorCommands.onLedger(x.vertx, new Ledger(x.target, cfg.agent().id()),
              name -> cfg.job(name).orElse(null), (name, reason, rate, force) -> new Rollback(x.vertx, x.source, x.target, actor(), System::nanoTime)
                  .run(name, reason, rate != null ? rate : cfg.job(name).map(JobConfig::rollback).map(JobConfig.Rollback::rowsPerSecond)
                      .orElse(null), force))
          .run(job, action, args, actor(), null));
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
