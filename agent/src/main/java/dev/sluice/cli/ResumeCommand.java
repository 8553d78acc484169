package dev.sluice.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "resume", mixinStandardHelpOptions = true,
    description = "Resume a paused job, whoever paused it (an operator, the drift monitor, the copy on data drift): running agents "
        + "take it up within a second or two, and an agent started later starts it unpaused. Needs no agent running and no HTTP API.")
public final class ResumeCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "NAME", description = "the job to resume")
  String job;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return LedgerCommand.run(config, spec, job, "resume", new JsonObject());
  }
}
