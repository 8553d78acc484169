package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * A leased segment as the ledger holds it now, for the run that holds the lease: after a ledger
 * statement whose answer never came (a stall, {@code sessions.stallTimeoutMs}) the run cannot know
 * whether it landed. A cut of the segment ({@link Ledger#split}) that did land left the segment shorter
 * in the ledger than the run believes, and its rest a pending segment of its own; the run goes on with
 * the range the ledger holds, so the rest is not copied twice.
 */
public final class SegmentBounds {
  private SegmentBounds() {}

  /** {@code s} as the ledger holds it under this lease ({@code agentId}, its epoch, unexpired), or null when the lease is gone. */
  public static Future<Segment> held(SqlClient db, String agentId, Segment s) {
    return db.preparedQuery("SELECT job, seq, lower_bound, upper_bound, state, rows_planned, rows_copied, attempts, last_error, owner, "
            + "lease_epoch FROM sluice.segments WHERE job = $1 AND seq = $2 AND owner = $3 AND lease_epoch = $4 AND lease_expires_at > now()")
        .execute(Tuple.of(s.job(), s.seq(), agentId, s.epoch()))
        .map(rows -> rows.size() == 0 ? null : Ledger.segment(rows.iterator().next()));
  }
}
