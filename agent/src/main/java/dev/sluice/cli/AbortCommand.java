package dev.sluice.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "abort", mixinStandardHelpOptions = true,
    description = "Stop a job for good, keeping everything it wrote (roll back to undo it); running agents stop it within a second or "
        + "two. Stores the job's final report.")
public final class AbortCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "NAME", description = "the job to abort")
  String job;

  @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the audit trail and the report")
  String reason;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return LedgerCommand.run(config, spec, job, "abort", new JsonObject().put("reason", reason));
  }
}
