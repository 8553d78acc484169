package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Final reports ({@code sluice.reports}: one a completion, abort or rollback, the latest served) and
 * the milestones already sent ({@code sluice.notifications}: the first agent to record a milestone
 * sends it, so several agents, or one restarted, never send it twice).
 */
public final class Reports {
  private Reports() {}

  /** Stores a report with its audit event. */
  public static Future<Void> save(SqlClient db, String agent, String job, String outcome, JsonObject report) {
    return db.preparedQuery("WITH r AS (INSERT INTO sluice.reports (job, outcome, report) VALUES ($1, $2, $3) RETURNING id) "
            + "INSERT INTO sluice.events (job, agent, kind, message, details) SELECT $1, $4, 'job.report', "
            + "'job ' || $1 || ': final report stored (' || $2 || ')', jsonb_build_object('report', r.id) FROM r")
        .execute(Tuple.of(job, outcome, report, agent)).mapEmpty();
  }

  /** The latest report of a job, or null. */
  public static Future<JsonObject> latest(SqlClient db, String job) {
    return db.preparedQuery("SELECT report FROM sluice.reports WHERE job = $1 ORDER BY id DESC LIMIT 1").execute(Tuple.of(job))
        .map(rows -> rows.size() == 0 ? null : (JsonObject) rows.iterator().next().getValue(0));
  }

  /** Records that a milestone is being sent; false when it was already (by this agent or another). */
  public static Future<Boolean> claimMilestone(SqlClient db, String agent, String job, String key, String kind) {
    return db.preparedQuery("INSERT INTO sluice.notifications (job, key, kind, agent) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .execute(Tuple.of(job, key, kind, agent)).map(r -> r.rowCount() == 1);
  }
}
