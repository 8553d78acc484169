package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import io.vertx.core.json.JsonObject;
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
    if (cfg == null) return ExitCode.BAD_CONFIG;
    return LedgerCommand.run(cfg, "sluice-complete", job, "complete", new JsonObject(), spec.commandLine().getOut(), err);
  }
}
