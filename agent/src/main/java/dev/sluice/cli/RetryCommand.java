package dev.sluice.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "retry", mixinStandardHelpOptions = true,
    description = "Queue parked (failed) segments for another try; a running agent picks them up within a second or two.")
public final class RetryCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "JOB", description = "the job's name")
  String job;

  @Option(names = "--segment", paramLabel = "N", description = "one segment's number (default: every failed segment of the job)")
  Integer segment;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return LedgerCommand.run(config, spec, job, "retry", new JsonObject().put("segment", segment));
  }
}
