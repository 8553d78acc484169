package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;

/**
 * Which agent reads a job's replication slot: a lease in the ledger, like a segment's. An agent takes
 * it when nobody holds it or the holder's term ran out (the database's clock decides, never an
 * agent's), renews it while it reads, hands it back when it stops cleanly; another agent takes it
 * over when the holder dies. Each new holder gets the next epoch. The slot itself admits one reader
 * at a time as well: the lease decides who tries, so the others wait quietly.
 */
public final class CaptureLeases {
  private final SqlClient db;
  private final String agentId;

  public CaptureLeases(SqlClient db, String agentId) {
    this.db = db;
    this.agentId = agentId;
  }

  /**
   * Takes or renews the lease for {@code term}. Returns the epoch while this agent holds it, or null
   * while another agent's lease is live. One statement; a takeover appends its audit event.
   */
  public Future<Long> acquire(String job, Duration term) {
    return db.preparedQuery("WITH prev AS (SELECT agent FROM sluice.capture_leases WHERE job = $1), "
            + "l AS (INSERT INTO sluice.capture_leases AS c (job, agent, expires_at) "
            + "SELECT $1, $2, now() + make_interval(secs => $3) WHERE EXISTS (SELECT 1 FROM sluice.jobs WHERE name = $1) "
            + "ON CONFLICT (job) DO UPDATE SET agent = $2, expires_at = EXCLUDED.expires_at, "
            + "epoch = CASE WHEN c.agent = $2 THEN c.epoch ELSE c.epoch + 1 END, "
            + "acquired_at = CASE WHEN c.agent = $2 THEN c.acquired_at ELSE now() END "
            + "WHERE c.agent = $2 OR c.expires_at < now() RETURNING epoch), "
            + "e AS (INSERT INTO sluice.events (job, agent, kind, message) SELECT $1, $2, 'capture.reader', "
            + "'agent ' || $2 || ' reads the replication slot (epoch ' || l.epoch || coalesce(', after ' || p.agent, '') || ')' "
            + "FROM l LEFT JOIN prev p ON true WHERE p.agent IS DISTINCT FROM $2) "
            + "SELECT epoch FROM l")
        .execute(Tuple.of(job, agentId, term.toMillis() / 1000.0))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0));
  }

  /** Hands the lease back (a clean stop): another agent may take it at once. */
  public Future<Void> release(String job) {
    return db.preparedQuery("UPDATE sluice.capture_leases SET expires_at = now() - interval '1 millisecond' WHERE job = $1 AND agent = $2")
        .execute(Tuple.of(job, agentId)).mapEmpty();
  }

  /** Who holds the lease (null when nobody's is live). */
  public record Holder(String agent, long epoch) {}

  public Future<Holder> holder(String job) {
    return db.preparedQuery("SELECT agent, epoch FROM sluice.capture_leases WHERE job = $1 AND expires_at > now()")
        .execute(Tuple.of(job))
        .map(rows -> {
          if (rows.size() == 0) return null;
          Row r = rows.iterator().next();
          return new Holder(r.getString(0), r.getLong(1));
        });
  }
}
