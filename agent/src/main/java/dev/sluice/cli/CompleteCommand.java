package dev.sluice.cli;

import dev.sluice.Main;
import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.resilience.ErrorClassifier;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "complete", mixinStandardHelpOptions = true,
    description = "End a job's catch-up: the running agents complete it once it is in sync and verified.")
public final class CompleteCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "NAME", description = "the job to complete")
  String job;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return Main.BAD_CONFIG;
    try (TargetSession s = new TargetSession(cfg, "sluice-complete")) {
      boolean asked = s.run(x -> new ConsistencyLedger(x.target, "complete-cli").requestComplete(job));
      if (!asked) {
        err.println("sluice: job " + job + " is not running (or completion was already requested); see `sluice status`");
        err.flush();
        return Main.BAD_CONFIG;
      }
      spec.commandLine().getOut().println("job " + job + ": completion requested; it completes once in sync and verified");
      spec.commandLine().getOut().flush();
      return Main.OK;
    } catch (RuntimeException e) {
      err.println("sluice: " + ErrorClassifier.describe(e));
      err.flush();
      return Main.RUNTIME_FAILURE;
    }
  }
}
