package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * What the ledger keeps about a job's change capture beyond its installation: the mode it was
 * installed in (kept for the job's life: a job never switches capture while it runs) and whether
 * changes were lost to capture (a replication slot dropped, a TRUNCATE) so that every segment must
 * be verified again against a fresh read of the source before the job completes.
 */
public final class CaptureLedger {
  private final SqlClient db;
  private final String actor;

  public CaptureLedger(SqlClient db, String actor) {
    this.db = db;
    this.actor = actor;
  }

  /** The mode the job's capture was installed in ({@code trigger} or {@code logical}), or null. */
  public Future<String> mode(String job) {
    return db.preparedQuery("SELECT capture_mode FROM sluice.jobs WHERE name = $1").execute(Tuple.of(job))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
  }

  /**
   * Records the mode once (the first agent's choice wins) with a {@code capture.mode} event saying
   * why; completes with the mode in force, which may be another agent's.
   */
  public Future<String> recordMode(String job, String mode, String why) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET capture_mode = $2, updated_at = now() "
            + "WHERE name = $1 AND capture_mode IS NULL RETURNING name), "
            + "e AS (INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $3, 'capture.mode', "
            + "'change capture: ' || $2 || ' (' || $4 || ')' FROM u) "
            + "SELECT capture_mode FROM sluice.jobs WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM u) UNION ALL SELECT $2 FROM u")
        .execute(Tuple.of(job, mode, actor, why))
        .map(rows -> rows.size() == 0 ? mode : rows.iterator().next().getString(0));
  }

  /** Changes were lost to capture: an audit event of {@code kind}, and every segment is verified again. */
  public Future<Void> requestReverify(String job, String kind, String message) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET reverify_requested = true, updated_at = now() WHERE name = $1 "
            + "RETURNING name) INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $2, $3, $4 FROM u")
        .execute(Tuple.of(job, actor, kind, message)).mapEmpty();
  }

  /** True (once) when a re-verification was requested since the last call: the caller runs it. */
  public Future<Boolean> takeReverify(String job) {
    return db.preparedQuery("UPDATE sluice.jobs SET reverify_requested = false WHERE name = $1 AND reverify_requested RETURNING 1")
        .execute(Tuple.of(job)).map(rows -> rows.size() > 0);
  }
}
