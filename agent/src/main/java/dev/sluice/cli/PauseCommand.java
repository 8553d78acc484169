package dev.sluice.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "pause", mixinStandardHelpOptions = true,
    description = "Pause a job on every agent (running agents stop admitting work within a second or two); it stays paused "
        + "across restarts until resumed. Needs no agent running and no HTTP API.")
public final class PauseCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "NAME", description = "the job to pause")
  String job;

  @Option(names = "--reason", paramLabel = "TEXT", description = "why, shown with the pause and kept in the audit trail")
  String reason;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return LedgerCommand.run(config, spec, job, "pause", new JsonObject().put("reason", reason));
  }
}
