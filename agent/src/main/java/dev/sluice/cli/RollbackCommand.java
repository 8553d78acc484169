package dev.sluice.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Stop a job and remove what it wrote: its rows from the target (or the table, if Sluice created it) and its "
        + "trigger and changelog from the source. Resumable: run it again after any interruption.")
public final class RollbackCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "NAME", description = "the job to roll back")
  String job;

  @Option(names = "--force", description = "roll back even though the target table held rows before the job started")
  boolean force;

  @Option(names = "--rows-per-second", paramLabel = "N", description = "delete pace (default: the job's rollback.rowsPerSecond, else unpaced)")
  Double rate;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return LedgerCommand.run(config, spec, job, "rollback", new JsonObject().put("force", force).put("rowsPerSecond", rate));
  }
}
