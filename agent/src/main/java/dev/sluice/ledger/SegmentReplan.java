package dev.sluice.ledger;

import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The ledger side of re-planning pending segments at a new size (a reload changed
 * {@code segment.rows}): reads the job's segments, then swaps runs of them for their re-cut
 * replacements in one transaction with one audit event.
 *
 * <p>Only segments nobody ever started may go: pending, attempts 0, no owner, never started (a
 * parked segment put back to pending has attempts 0 again but may have left rows in the target).
 * The swap locks the job row (new segments are numbered from {@code max(seq) + 1}, as a split
 * numbers its rest, so seqs are never reused) and then the run's segment rows {@code FOR UPDATE}; a
 * claim takes rows {@code FOR UPDATE SKIP LOCKED}, so it either committed first (the re-check sees
 * the segment copying and the run is left alone) or skips the locked rows and finds them gone.
 */
public final class SegmentReplan {
  // Job states in which pending segments may still be waiting for a claim.
  private static final List<String> OPEN = List.of("copying", "catching_up", "in_sync", "failed");
  private final Pool db;
  private final String agentId;

  public SegmentReplan(Pool db, String agentId) {
    this.db = db;
    this.agentId = agentId;
  }

  /** A segment as the re-plan sees it; {@code replannable}: pending and never started by anyone. */
  public record Slot(int seq, KeyRange range, long rowsPlanned, boolean replannable) {}

  /** A run of adjacent replannable segments and the segments cut anew over the same span. */
  public record Recut(List<Slot> old, List<KeyRange> ranges, List<Long> rows) {}

  /** What the swap did: runs replaced and runs left alone (each with why). */
  public record Swap(int oldSegments, int newSegments, List<Integer> newSeqs, List<String> skipped) {}

  /** Every segment of the job, or an empty list when the job is not planned (or is finished or being rolled back). */
  public Future<List<Slot>> slots(String job) {
    return db.preparedQuery("SELECT s.seq, s.lower_bound, s.upper_bound, s.rows_planned, "
            + "(s.state = 'pending' AND s.attempts = 0 AND s.owner IS NULL AND s.started_at IS NULL) "
            + "FROM sluice.segments s JOIN sluice.jobs j ON j.name = s.job "
            + "WHERE s.job = $1 AND j.state = ANY($2::text[])")
        .execute(Tuple.of(job).addArrayOfString(OPEN.toArray(new String[0])))
        .map(rows -> {
          List<Slot> out = new ArrayList<>();
          for (Row r : rows) out.add(new Slot(r.getInteger(0), range(r, 1), r.getLong(3), r.getBoolean(4)));
          return out;
        });
  }

  private static KeyRange range(Row r, int from) {
    String[] lo = r.getArrayOfStrings(from);
    String[] hi = r.getArrayOfStrings(from + 1);
    return new KeyRange(lo == null ? null : Arrays.asList(lo), hi == null ? null : Arrays.asList(hi));
  }

  /**
   * Replaces each run whose segments are all still as read (pending, unleased, never started, same
   * bounds) by its re-cut segments; a run that changed meanwhile is left whole. One transaction,
   * one {@code job.segments_replanned} event (none when nothing was replaced).
   */
  public Future<Swap> swap(String job, List<Recut> recuts, long oldSize, long newSize) {
    List<Integer> seqs = recuts.stream().flatMap(r -> r.old().stream()).map(Slot::seq).toList();
    return db.withTransaction(conn -> conn.preparedQuery("SELECT state FROM sluice.jobs WHERE name = $1 FOR UPDATE").execute(Tuple.of(job))
        .compose(j -> j.size() == 1 && OPEN.contains(j.iterator().next().getString(0))
            ? Future.succeededFuture()
            : Future.failedFuture(new IllegalStateException("job " + job + " is no longer copying")))
        .compose(j -> conn.preparedQuery("SELECT seq, lower_bound, upper_bound, rows_planned, "
                + "(state = 'pending' AND attempts = 0 AND owner IS NULL AND started_at IS NULL), state, owner "
                + "FROM sluice.segments WHERE job = $1 AND seq = ANY($2::int[]) FOR UPDATE")
            .execute(Tuple.of(job).addArrayOfInteger(seqs.toArray(new Integer[0])))
            .map(rows -> {
              Map<Integer, Row> now = new HashMap<>();
              for (Row r : rows) now.put(r.getInteger(0), r);
              return now;
            }))
        .compose(now -> {
          List<Recut> keep = new ArrayList<>();
          List<String> skipped = new ArrayList<>();
          for (Recut rc : recuts) {
            String why = changed(rc, now);
            if (why == null) keep.add(rc);
            else skipped.add(why);
          }
          if (keep.isEmpty()) return Future.succeededFuture(new Swap(0, 0, List.of(), skipped));
          return apply(conn, job, keep, now, oldSize, newSize, skipped);
        }));
  }

  /** Why a run can no longer be replaced, or null when every segment of it is still as read. */
  private static String changed(Recut rc, Map<Integer, Row> now) {
    for (Slot s : rc.old()) {
      Row r = now.get(s.seq());
      if (r == null) return "segment " + s.seq() + " is gone (re-planned or cut meanwhile)";
      if (!r.getBoolean(4)) {
        return "segment " + s.seq() + " is " + r.getString(5) + (r.getString(6) == null ? "" : " by " + r.getString(6))
            + " or was started (another agent claimed it meanwhile)";
      }
      if (!Objects.equals(range(r, 1), s.range())) return "segment " + s.seq() + "'s range changed meanwhile";
    }
    return null;
  }

  private Future<Swap> apply(SqlConnection conn, String job, List<Recut> keep, Map<Integer, Row> now, long oldSize, long newSize,
      List<String> skipped) {
    List<Integer> gone = keep.stream().flatMap(r -> r.old().stream()).map(Slot::seq).toList();
    long oldRows = gone.stream().mapToLong(seq -> now.get(seq).getLong(3)).sum();
    long newRows = keep.stream().flatMap(r -> r.rows().stream()).mapToLong(Long::longValue).sum();
    int added = keep.stream().mapToInt(r -> r.ranges().size()).sum();
    return conn.preparedQuery("SELECT coalesce(max(seq), -1) FROM sluice.segments WHERE job = $1").execute(Tuple.of(job))
        .compose(max -> {
          int next = max.iterator().next().getInteger(0) + 1;
          List<Tuple> batch = new ArrayList<>();
          List<Integer> newSeqs = new ArrayList<>();
          JsonArray spans = new JsonArray();
          for (Recut rc : keep) {
            int first = next;
            for (int i = 0; i < rc.ranges().size(); i++) {
              KeyRange k = rc.ranges().get(i);
              batch.add(Tuple.of(job, next, bound(k.lower()), bound(k.upper()), rc.rows().get(i)));
              newSeqs.add(next++);
            }
            KeyRange span = new KeyRange(rc.old().get(0).range().lower(), rc.old().get(rc.old().size() - 1).range().upper());
            spans.add(new JsonObject().put("lower", json(span.lower())).put("upper", json(span.upper()))
                .put("oldSeqs", new JsonArray(rc.old().stream().map(Slot::seq).toList()))
                .put("newSeqs", new JsonArray(List.of(first, next - 1))));
          }
          String message = "job " + job + ": " + gone.size() + " pending segments of " + oldSize + " rows re-cut at " + newSize
              + " rows into " + added + " (seqs " + newSeqs.get(0) + ".." + newSeqs.get(newSeqs.size() - 1) + ")"
              + (skipped.isEmpty() ? "" : "; " + skipped.size() + " run(s) left alone: " + String.join("; ", skipped));
          JsonObject details = new JsonObject().put("oldSegments", gone.size()).put("newSegments", added)
              .put("oldSegmentRows", oldSize).put("newSegmentRows", newSize).put("rowsPlannedBefore", oldRows)
              .put("rowsPlannedAfter", newRows).put("spans", spans).put("skipped", new JsonArray(skipped));
          return conn.preparedQuery("DELETE FROM sluice.segments WHERE job = $1 AND seq = ANY($2::int[])")
              .execute(Tuple.of(job).addArrayOfInteger(gone.toArray(new Integer[0])))
              .compose(v -> conn.preparedQuery("INSERT INTO sluice.segments (job, seq, lower_bound, upper_bound, rows_planned) "
                  + "VALUES ($1, $2, $3, $4, $5)").executeBatch(batch))
              .compose(v -> conn.preparedQuery("UPDATE sluice.jobs SET segments_planned = segments_planned + $2, "
                  + "rows_planned = rows_planned + $3, updated_at = now() WHERE name = $1")
                  .execute(Tuple.of(job, added - gone.size(), newRows - oldRows)))
              .compose(v -> conn.preparedQuery("INSERT INTO sluice.events (job, agent, kind, message, details) "
                  + "VALUES ($1, $2, 'job.segments_replanned', $3, $4)").execute(Tuple.of(job, agentId, message, details)))
              .map(v -> new Swap(gone.size(), added, List.copyOf(newSeqs), skipped));
        });
  }

  private static JsonArray json(List<String> b) {
    return b == null ? null : new JsonArray(new ArrayList<Object>(b));
  }

  private static String[] bound(List<String> b) {
    return b == null ? null : b.toArray(new String[0]);
  }
}
