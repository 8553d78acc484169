package dev.sluice.cli;

import dev.sluice.Main;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.io.PrintWriter;
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
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return Main.BAD_CONFIG;
    Vertx vertx = Vertx.vertx();
    Pool pool = Databases.pool(vertx, cfg.target(), "sluice-retry", 1);
    try {
      if (!Await.result(LedgerSchema.exists(pool))) {
        err.println("sluice: no ledger in " + cfg.target().redacted() + ": no job has run there yet");
        return Main.BAD_CONFIG;
      }
      if (Await.result(Ledger.job(pool, job)) == null) {
        err.println("sluice: the ledger has no job \"" + job + "\"");
        return Main.BAD_CONFIG;
      }
      String actor = "cli (" + System.getProperty("user.name", "unknown") + ")";
      int n = Await.result(new Ledger(pool, cfg.agent().id()).retryFailed(job, segment, actor));
      if (n == 0) {
        err.println(segment == null ? "sluice: job " + job + " has no failed segment"
            : "sluice: segment " + segment + " of job " + job + " is not failed (only failed segments can be retried)");
        return Main.BAD_CONFIG;
      }
      out.println("queued " + n + " segment" + (n == 1 ? "" : "s") + " of job " + job + " for retry");
      out.flush();
      return Main.OK;
    } catch (RuntimeException e) {
      err.println("sluice: cannot reach the ledger in " + cfg.target().redacted() + ": " + ErrorClassifier.describe(e));
      return Main.RUNTIME_FAILURE;
    } finally {
      err.flush();
      Await.result(pool.close().otherwiseEmpty());
      Await.result(vertx.close());
    }
  }
}
