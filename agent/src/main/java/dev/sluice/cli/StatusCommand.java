package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.Roster;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show each job's segments by state and rows copied, and the agents working on them, from the ledger.")
public final class StatusCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return ExitCode.BAD_CONFIG;
    Vertx vertx = Vertx.vertx();
    PrintWriter out = spec.commandLine().getOut();
    try {
      PgConnection conn = Await.result(Databases.connect(vertx, cfg.target(), "sluice-status", cfg.sessions()));
      try {
        if (!Await.result(LedgerSchema.exists(conn))) {
          out.println("no ledger in " + cfg.target().redacted() + " yet: no job has run");
          return ExitCode.OK;
        }
        JsonArray jobs = Await.result(Ledger.summary(conn));
        for (String name : cfg.jobs().stream().map(j -> j.name()).toList()) {
          JsonObject j = find(jobs, name);
          if (j == null) {
            out.printf("job %s: not started%n", name);
            continue;
          }
          out.printf("job %s: %s%s%s%n", name, j.getString("state"), j.getBoolean("paused")
              ? " (" + Ledger.pauseSentence(j.getString("pausedBy"), j.getString("pauseReason")) + ")" : "",
              j.getString("reason") == null ? "" : " - " + j.getString("reason"));
          out.printf("  segments: %d planned; %s%n", j.getInteger("segmentsPlanned"), states(j.getJsonObject("segments")));
          out.printf("  rows: %d copied of ~%d planned%n", j.getLong("rowsCopied"), j.getLong("rowsPlanned"));
        }
        if (Await.result(Roster.exists(conn))) {
          AgentList.print(out, Await.result(Roster.agents(conn)), Await.result(Roster.rowWrites(conn)));
        }
        out.flush();
        return ExitCode.OK;
      } finally {
        Await.result(conn.close().otherwiseEmpty());
      }
    } catch (RuntimeException e) {
      err.println("sluice: cannot read the ledger in " + cfg.target().redacted() + ": " + ErrorClassifier.describe(e));
      return ExitCode.RUNTIME_FAILURE;
    } finally {
      Await.result(vertx.close());
    }
  }

  private static JsonObject find(JsonArray jobs, String name) {
    for (int i = 0; i < jobs.size(); i++) if (jobs.getJsonObject(i).getString("name").equals(name)) return jobs.getJsonObject(i);
    return null;
  }

  private static String states(JsonObject counts) {
    StringBuilder sb = new StringBuilder();
    for (String s : new String[] {"verified", "copied", "copying", "pending", "failed"}) {
      if (sb.length() > 0) sb.append(", ");
      sb.append(counts.getInteger(s, 0)).append(' ').append(s);
    }
    return sb.toString();
  }
}
