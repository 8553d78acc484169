package dev.sluice.cli;

import dev.sluice.Main;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.rollback.Rollback;
import java.io.PrintWriter;
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
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return Main.BAD_CONFIG;
    Double pace = rate != null ? rate : cfg.job(job).map(JobConfig::rollback).map(JobConfig.Rollback::rowsPerSecond).orElse(null);
    try (TargetSession s = new TargetSession(cfg, "sluice-rollback")) {
      Rollback.Outcome o = s.run(x -> new Rollback(x.vertx, x.source, x.target, "rollback-cli").run(job, "requested by an operator", pace, force));
      if (o.alreadyDone()) {
        out.println("job " + job + ": already rolled back; capture is removed from the source");
      } else {
        out.println("job " + job + ": rolled back: " + (o.tableDropped() ? "target table dropped (Sluice created it)"
            : o.rowsDeleted() + " rows deleted from " + o.segments() + " segments") + "; trigger and changelog removed from the source");
      }
      out.flush();
      return Main.OK;
    } catch (Rollback.Refused e) {
      err.println("sluice: " + e.getMessage());
      err.flush();
      return Main.BAD_CONFIG;
    } catch (RuntimeException e) {
      err.println("sluice: rollback of job " + job + " interrupted: " + ErrorClassifier.describe(e) + "; run it again to finish");
      err.flush();
      return Main.RUNTIME_FAILURE;
    }
  }
}
