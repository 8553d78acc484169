package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.outlook.Advice;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "advise", mixinStandardHelpOptions = true,
    description = "Propose time windows and a rate for each job from the source's learned week (recorded by running agents) and the "
        + "job's measured cost per row, with the reasoning. With less than a day of data it says the advice is a guess.")
public final class AdviseCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--json", description = "print the advice as JSON (as GET /api/advice serves it)")
  boolean json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return ExitCode.BAD_CONFIG;
    try (TargetSession s = new TargetSession(cfg, "sluice-advise")) {
      // Reads only: a ledger that does not exist yet is no data, and is not created.
      boolean ledger = Await.result(LedgerSchema.exists(s.target));
      JsonObject advice = Await.result(Advice.of(ledger ? s.target : null, s.source, cfg, Instant.now()));
      out.print(json ? advice.encodePrettily() + "\n" : Advice.text(advice));
      out.flush();
      return ExitCode.OK;
    } catch (RuntimeException e) {
      err.println("sluice: cannot read the traffic profile in " + cfg.target().redacted() + ": " + ErrorClassifier.describe(e));
      err.flush();
      return ExitCode.RUNTIME_FAILURE;
    }
  }
}
