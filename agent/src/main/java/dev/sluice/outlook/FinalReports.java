package dev.sluice.outlook;

import dev.sluice.config.SluiceConfig;
import dev.sluice.ledger.JobState;
import dev.sluice.ledger.ReportLedger;
import dev.sluice.ledger.Reports;
import dev.sluice.pace.Schedule;
import dev.sluice.report.ReportBuilder;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Set;

/**
 * A job's final report: built from the ledger ({@link ReportLedger}, {@link ReportBuilder}) and stored
 * in {@code sluice.reports} when the job completes, aborts or is rolled back, by exactly one agent
 * (the first to claim {@code report/<event id>} in {@code sluice.notifications}). {@link #latest} serves
 * the stored one; a job still running gets one built now, marked {@code "final": false}.
 */
public final class FinalReports {
  /** Job states whose entry stores a report. */
  public static final Set<String> ENDINGS = Set.of(JobState.COMPLETED.db(), JobState.ABORTED.db(), JobState.ROLLED_BACK.db());

  private FinalReports() {}

  /** Builds a report of the job as the ledger has it now; null when the ledger does not know the job. */
  public static Future<JsonObject> build(SqlClient db, SluiceConfig cfg, String job) {
    String schedule = cfg == null ? null : cfg.job(job).map(j -> {
      Schedule s = new Schedule(j.pacing().schedule());
      return s.alwaysOpen() ? "always" : s.describe();
    }).orElse(null);
    return ReportLedger.input(db, job, schedule).map(in -> in == null ? null : ReportBuilder.build(in));
  }

  /**
   * Stores the report of a job that just ended ({@code eventId}: the audit event saying so), unless
   * another agent (or this one, earlier) already did for that event. The claim, the report and its
   * event are one transaction: a store that fails leaves no claim, so the next try stores it (a
   * second claimant waits for the first to commit, then finds the claim). Completes with whether
   * this call stored it.
   */
  public static Future<Boolean> storeOnce(Pool db, SluiceConfig cfg, String agent, String job, String outcome, long eventId) {
    return db.withTransaction(tx -> Reports.claimMilestone(tx, agent, job, "report/" + eventId, "report").compose(first -> {
      if (!first) return Future.succeededFuture(false);
      return build(tx, cfg, job).compose(r -> r == null ? Future.succeededFuture(false)
          : Reports.save(tx, agent, job, outcome, r.put("final", true)).map(true));
    }));
  }

  /**
   * Stores the report of a job that {@code outcome} ({@code aborted}, {@code rolled_back}) ended, for
   * the latest audit event saying so ({@code job.<outcome>}), unless an agent already did: the CLI
   * calls it after its own abort or rollback, so the report is final whether or not an agent runs
   * (a running agent's {@link JobOutlook} stores it for the same event; the claim keeps it to one).
   * Completes with whether this call stored it; false as well when the ledger has no such event.
   */
  public static Future<Boolean> storeForLatest(Pool db, SluiceConfig cfg, String agent, String job, String outcome) {
    return db.preparedQuery("SELECT max(id) FROM sluice.events WHERE job = $1 AND kind = $2").execute(Tuple.of(job, "job." + outcome))
        .compose(rows -> {
          Long id = rows.iterator().next().getLong(0);
          return id == null ? Future.succeededFuture(false) : storeOnce(db, cfg, agent, job, outcome, id);
        });
  }

  /** The stored report of a job, else one built now ({@code final: false}); null when the ledger does not know the job. */
  public static Future<JsonObject> latest(SqlClient db, SluiceConfig cfg, String job) {
    return Reports.latest(db, job).compose(r -> r != null ? Future.succeededFuture(r)
        : build(db, cfg, job).map(b -> b == null ? null : provisional(b)));
  }

  /** A report of a job that has not ended: built as of now, which is not when it finished. */
  private static JsonObject provisional(JsonObject r) {
    return r.put("final", false).put("asOf", r.getValue("finishedAt")).putNull("finishedAt");
  }
}
