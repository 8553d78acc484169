package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.outlook.FinalReports;
import dev.sluice.report.ReportMarkdown;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Print a job's final report (Markdown, for a ticket): the one stored when it completed, aborted or was rolled back; "
        + "for a job still running, one built from the ledger now, marked provisional.")
public final class ReportCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--job", required = true, paramLabel = "NAME", description = "the job")
  String job;

  @Option(names = "--json", description = "print the report as JSON (as GET /api/jobs/{job}/report serves it)")
  boolean json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return ExitCode.BAD_CONFIG;
    try (TargetSession s = new TargetSession(cfg, "sluice-report")) {
      JsonObject r = Await.result(LedgerSchema.exists(s.target)) ? Await.result(FinalReports.latest(s.target, cfg, job)) : null;
      if (r == null) {
        err.println("sluice: job " + job + " is not in the ledger of " + cfg.target().redacted() + " (it has not run there)");
        err.flush();
        return ExitCode.BAD_CONFIG;
      }
      if (json) {
        out.println(r.encodePrettily());
      } else {
        if (!r.getBoolean("final", true)) out.println("> Provisional: the job has not ended; this is the ledger as it stands now.\n");
        out.print(ReportMarkdown.render(r));
      }
      out.flush();
      return ExitCode.OK;
    } catch (RuntimeException e) {
      err.println("sluice: cannot read the ledger in " + cfg.target().redacted() + ": " + ErrorClassifier.describe(e));
      err.flush();
      return ExitCode.RUNTIME_FAILURE;
    }
  }
}
