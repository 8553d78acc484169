package dev.sluice.ledger;

import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ledger reads behind the read path (the cache and the read rollout): which segments are
 * verified, and the rollout's events. Each is one query over indexed columns, polled by every agent.
 */
public final class ReadPathLedger {
  private ReadPathLedger() {}

  /** A cheap fingerprint of a job's verified segments (their count and seqs): it changes when the set does. */
  public static Future<String> verifiedFingerprint(SqlClient db, String job) {
    return db.preparedQuery("SELECT count(*) || ':' || coalesce(sum(hashint4(seq)::bigint), 0) FROM sluice.segments "
            + "WHERE job = $1 AND state = 'verified'")
        .execute(Tuple.of(job))
        .map(rows -> rows.iterator().next().getString(0));
  }

  /** A job's verified segments and their key ranges, by seq. */
  public static Future<Map<Integer, KeyRange>> verifiedRanges(SqlClient db, String job) {
    return db.preparedQuery("SELECT seq, lower_bound, upper_bound FROM sluice.segments WHERE job = $1 AND state = 'verified' ORDER BY seq")
        .execute(Tuple.of(job))
        .map(set -> {
          Map<Integer, KeyRange> out = new LinkedHashMap<>();
          for (Row r : set) {
            String[] lo = r.getArrayOfStrings(1);
            String[] hi = r.getArrayOfStrings(2);
            out.put(r.getInteger(0), new KeyRange(lo == null ? null : Arrays.asList(lo), hi == null ? null : Arrays.asList(hi)));
          }
          return out;
        });
  }

  /**
   * A SQL condition: some verified segment of job {@code $1} holds the key {@code keyRow}, whose
   * bounds, cast to the key's types, are {@code lower} and {@code upper} (expressions over alias {@code s}).
   */
  public static String verifiedSegmentHolds(String keyRow, String lowerRow, String upperRow) {
    return "EXISTS (SELECT 1 FROM sluice.segments s WHERE s.job = $1 AND s.state = 'verified' "
        + "AND (s.lower_bound IS NULL OR " + keyRow + " >= " + lowerRow + ") "
        + "AND (s.upper_bound IS NULL OR " + keyRow + " < " + upperRow + "))";
  }

  /**
   * Where a job's read rollout stands in the audit trail: the newest event id, the newest of the two
   * kinds (as {@code (kind,message)}), and the message of the newest {@code pausedKind} event.
   */
  public record RolloutHistory(long lastEventId, String latest, String lastPause) {}

  public static Future<RolloutHistory> rolloutHistory(SqlClient db, String job, String setKind, String pausedKind) {
    return db.preparedQuery("SELECT coalesce(max(id), 0), (SELECT row(kind, message)::text FROM sluice.events "
            + "WHERE job = $1 AND kind IN ($2, $3) ORDER BY id DESC LIMIT 1), "
            + "(SELECT message FROM sluice.events WHERE job = $1 AND kind = $3 ORDER BY id DESC LIMIT 1) FROM sluice.events")
        .execute(Tuple.of(job, setKind, pausedKind))
        .map(rows -> {
          Row r = rows.iterator().next();
          return new RolloutHistory(r.getLong(0), r.getString(1), r.getString(2));
        });
  }

  /** A rollout event written by another agent. */
  public record RolloutEvent(long id, String kind, String message, String details) {}

  /** The job's events of the two kinds after {@code after}, written by agents other than {@code self}. */
  public static Future<List<RolloutEvent>> rolloutEvents(SqlClient db, String job, long after, String setKind, String pausedKind,
      String self) {
    return db.preparedQuery("SELECT id, kind, message, details::text FROM sluice.events WHERE job = $1 AND id > $2 "
            + "AND kind IN ($3, $4) AND agent IS DISTINCT FROM $5 ORDER BY id")
        .execute(Tuple.of(job, after, setKind, pausedKind, self))
        .map(rows -> {
          List<RolloutEvent> out = new ArrayList<>();
          for (Row r : rows) out.add(new RolloutEvent(r.getLong(0), r.getString(1), r.getString(2), r.getString(3)));
          return out;
        });
  }
}
