package dev.sluice.cli;

import dev.sluice.capture.ChangeCapture;
import dev.sluice.capture.LogicalSlot;
import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.JobState;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cleanup", mixinStandardHelpOptions = true,
    description = "After a verified completion, remove the job's trigger and changelog from the source and record it.")
public final class CleanupCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "NAME", description = "the completed job")
  String job;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return ExitCode.BAD_CONFIG;
    String[] note = {null};
    try (TargetSession s = new TargetSession(cfg, "sluice-cleanup")) {
      String refused = s.run(x -> {
        ConsistencyLedger ledger = new ConsistencyLedger(x.target, "cleanup-cli");
        return ledger.facts(job).compose(f -> {
          if (f == null) return Future.succeededFuture("no job " + job + " in the ledger");
          if (f.state() != JobState.COMPLETED) {
            return Future.succeededFuture("job " + job + " is " + f.state().db() + "; cleanup follows a verified completion "
                + "(`sluice complete`, or `run --until-done`); to undo a job use `sluice rollback`");
          }
          return ChangeCapture.remove(x.vertx, x.source, job)
              .compose(v -> ledger.captureRemoved(job, "cleanup after verified completion"))
              .compose(v -> LogicalSlot.foreignPublication(x.source, job))
              .map(left -> {
                if (left != null) note[0] = left;
                return (String) null;
              });
        });
      });
      if (refused != null) {
        err.println("sluice: " + refused);
        err.flush();
        return ExitCode.BAD_CONFIG;
      }
      spec.commandLine().getOut().println("job " + job + ": " + (note[0] == null
          ? dev.sluice.command.OperatorCommands.SOURCE_CLEAN
          : "capture removed from the source (trigger, slot, changelog) but for its publication: " + note[0]));
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    } catch (RuntimeException e) {
      boolean transient_ = ErrorClassifier.classify(e) == dev.sluice.resilience.ErrorClass.TRANSIENT;
      err.println("sluice: cleanup of job " + job + " failed: " + ErrorClassifier.describe(e)
          + (transient_ ? "; run it again" : "; fix that and run it again (each step is idempotent)"));
      err.flush();
      return ExitCode.RUNTIME_FAILURE;
    }
  }
}
