package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ledger statements of change capture, catch-up, final verification and rollback. Like
 * {@link Ledger}: every job or segment state change is one statement that also appends its audit
 * event. Static over a {@link SqlClient} so the CLI's rollback and cleanup (which run without an
 * agent) use the same statements as the agent.
 */
public final class ConsistencyLedger {
  private final SqlClient db;
  private final String actor;

  public ConsistencyLedger(SqlClient db, String actor) {
    this.db = db;
    this.actor = actor;
  }

  /** What a job row says beyond {@link Ledger.JobRow}: capture, rollback and completion facts. */
  public record JobFacts(String name, JobState state, boolean targetCreated, List<String> targetKey, Boolean targetHadRows,
      boolean captureInstalled, boolean captureRemoved, boolean completeRequested, boolean paused, String pauseReason,
      JsonObject verifyReport, String sourceTable, String targetTable, List<String> keyColumns, List<String> keyTypes) {}

  public Future<JobFacts> facts(String job) {
    return db.preparedQuery("SELECT name, state, target_created, target_key, target_had_rows, capture_installed_at IS NOT NULL, "
            + "capture_removed_at IS NOT NULL, complete_requested, paused, pause_reason, verify_report, source_table, target_table, "
            + "key_columns, key_types FROM sluice.jobs WHERE name = $1")
        .execute(Tuple.of(job))
        .map(rows -> {
          if (rows.size() == 0) return null;
          Row r = rows.iterator().next();
          String[] tk = r.getArrayOfStrings(3);
          Object rep = r.getValue(10);
          return new JobFacts(r.getString(0), JobState.of(r.getString(1)), r.getBoolean(2), tk == null ? null : List.of(tk),
              r.getBoolean(4), r.getBoolean(5), r.getBoolean(6), r.getBoolean(7), r.getBoolean(8), r.getString(9),
              rep instanceof JsonObject j ? j : null, r.getString(11), r.getString(12), List.of(r.getArrayOfStrings(13)),
              List.of(r.getArrayOfStrings(14)));
        });
  }

  /** Records that the capture trigger is in place (once), with what a rollback must know later. */
  public Future<Void> captureInstalled(String job, List<String> targetKey, boolean targetHadRows, String changelog) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET capture_installed_at = now(), capture_removed_at = NULL, "
            + "target_key = coalesce(target_key, $2), target_had_rows = coalesce(target_had_rows, $3), updated_at = now() "
            + "WHERE name = $1 AND capture_installed_at IS NULL RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $4, 'capture.installed', "
            + "'change capture installed on the source: trigger records changed keys in ' || $5 FROM u")
        .execute(Tuple.of(job, targetKey.toArray(new String[0]), targetHadRows, actor, changelog)).mapEmpty();
  }

  /** Records the target key and whether the target held rows, for a job that runs without capture. */
  public Future<Void> targetFacts(String job, List<String> targetKey, boolean targetHadRows) {
    return db.preparedQuery("UPDATE sluice.jobs SET target_key = coalesce(target_key, $2), "
            + "target_had_rows = coalesce(target_had_rows, $3) WHERE name = $1")
        .execute(Tuple.of(job, targetKey.toArray(new String[0]), targetHadRows)).mapEmpty();
  }

  public Future<Void> captureRemoved(String job, String why) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET capture_removed_at = now(), updated_at = now() "
            + "WHERE name = $1 AND capture_removed_at IS NULL RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $2, 'capture.removed', "
            + "'change capture removed from the source (' || $3 || ')' FROM u")
        .execute(Tuple.of(job, actor, why)).mapEmpty();
  }

  /** Every segment of a job, in key order. */
  public Future<List<Segment>> segments(String job) {
    return db.preparedQuery("SELECT job, seq, lower_bound, upper_bound, state, rows_planned, rows_copied, attempts, last_error, "
            + "owner, lease_epoch FROM sluice.segments WHERE job = $1 ORDER BY seq")
        .execute(Tuple.of(job))
        .map(rows -> {
          List<Segment> out = new ArrayList<>();
          for (Row r : rows) out.add(Ledger.segment(r));
          return out;
        });
  }

  /** Current state of every segment, by seq. */
  public Future<Map<Integer, SegmentState>> states(String job) {
    return db.preparedQuery("SELECT seq, state FROM sluice.segments WHERE job = $1")
        .execute(Tuple.of(job))
        .map(rows -> {
          Map<Integer, SegmentState> out = new LinkedHashMap<>();
          for (Row r : rows) out.put(r.getInteger(0), SegmentState.of(r.getString(1)));
          return out;
        });
  }

  /** A segment's stored copy-time fingerprint and how many captured changes reached it since. */
  public record CopyFacts(int seq, Long sourceRows, Long sourceHash, long changesAfterCopy) {}

  public Future<Map<Integer, CopyFacts>> copyFacts(String job) {
    return db.preparedQuery("SELECT seq, source_rows, source_hash, changes_after_copy FROM sluice.segments WHERE job = $1")
        .execute(Tuple.of(job))
        .map(rows -> {
          Map<Integer, CopyFacts> out = new LinkedHashMap<>();
          for (Row r : rows) out.put(r.getInteger(0), new CopyFacts(r.getInteger(0), r.getLong(1), r.getLong(2), r.getLong(3)));
          return out;
        });
  }

  /** Counts applied changes per segment (copied ones only: a pending segment's copy carries them). */
  public Future<Void> noteApplied(String job, Map<Integer, Long> perSegment) {
    if (perSegment.isEmpty()) return Future.succeededFuture();
    Integer[] seqs = perSegment.keySet().toArray(new Integer[0]);
    Long[] counts = perSegment.values().toArray(new Long[0]);
    long total = perSegment.values().stream().mapToLong(Long::longValue).sum();
    return db.preparedQuery("WITH s AS (UPDATE sluice.segments g SET changes_after_copy = g.changes_after_copy + x.n "
            + "FROM unnest($2::int[], $3::bigint[]) AS x(seq, n) WHERE g.job = $1 AND g.seq = x.seq "
            + "AND g.state IN ('verified', 'failed')) "
            + "UPDATE sluice.jobs SET changes_applied = changes_applied + $4 WHERE name = $1")
        .execute(Tuple.of(job, seqs, counts, total)).mapEmpty();
  }

  /**
   * Captured changes seen in each segment's range (applied, or dropped because the segment was still
   * pending): the evidence the cold-first order ranks segments by.
   */
  public Future<Void> noteSeen(String job, Map<Integer, Long> perSegment) {
    if (perSegment.isEmpty()) return Future.succeededFuture();
    Integer[] seqs = perSegment.keySet().toArray(new Integer[0]);
    Long[] counts = perSegment.values().toArray(new Long[0]);
    return db.preparedQuery("UPDATE sluice.segments g SET changes_seen = g.changes_seen + x.n "
            + "FROM unnest($2::int[], $3::bigint[]) AS x(seq, n) WHERE g.job = $1 AND g.seq = x.seq")
        .execute(Tuple.of(job, seqs, counts)).mapEmpty();
  }

  /** The final verification's report: stored on the job and appended as its audit event. */
  public Future<Void> verifyReport(String job, JsonObject report, String message) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET verify_report = $2, updated_at = now() WHERE name = $1 RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message, details) SELECT name, $3, 'job.verify_report', $4, $2 FROM u")
        .execute(Tuple.of(job, report, actor, message)).mapEmpty();
  }

  /** A verified segment found different in the final pass and not repairable: parked failed with its keys. */
  public Future<Void> failVerified(String job, int seq, String why, String keys) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.segments SET state = 'failed', last_error = $3, error_key = $4, "
            + "updated_at = now() WHERE job = $1 AND seq = $2 AND state = 'verified' RETURNING job, seq) "
            + "INSERT INTO sluice.events (job, segment, agent, kind, message) SELECT job, seq, $5, 'segment.failed', "
            + "'segment ' || seq || ' failed final verification: ' || $3 FROM u")
        .execute(Tuple.of(job, seq, why, keys, actor)).mapEmpty();
  }

  /** Asks the agents running the job to complete it once in sync (operator's end of catch-up). */
  public Future<Boolean> requestComplete(String job) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET complete_requested = true, updated_at = now() "
            + "WHERE name = $1 AND NOT complete_requested AND state IN ('copying', 'catching_up', 'in_sync') RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $2, 'job.complete_requested', "
            + "'completion requested by ' || $2 || ': the job completes once in sync and verified' FROM u RETURNING 1")
        .execute(Tuple.of(job, actor)).map(rows -> rows.rowCount() > 0);
  }

  /**
   * Starts (or continues) a rollback: the job goes to rolling_back and every segment not yet rolled
   * back to rolling_back with its lease fenced off (epoch bumped, owner cleared), so no copier,
   * applier or repair of any agent writes to the target again. One statement.
   */
  public Future<Void> beginRollback(String job, String reason) {
    return db.preparedQuery("WITH j AS (UPDATE sluice.jobs SET state = 'rolling_back', reason = $3, paused = false, "
            + "finished_at = NULL, updated_at = now() WHERE name = $1 AND state <> 'rolled_back' RETURNING name, "
            + "(SELECT state FROM sluice.jobs WHERE name = $1) AS was), "
            // FOR UPDATE first: it waits for in-flight target writes, whose fences hold FOR KEY SHARE on
            // the segment row (a plain UPDATE would not), so no copy lands after the rollback began.
            + "l AS (SELECT seq FROM sluice.segments WHERE job = $1 AND state NOT IN ('rolling_back', 'rolled_back') ORDER BY seq FOR UPDATE), "
            + "s AS (UPDATE sluice.segments SET state = 'rolling_back', owner = NULL, lease_epoch = lease_epoch + 1, "
            + "lease_expires_at = NULL, updated_at = now() WHERE job = $1 AND seq IN (SELECT seq FROM l) "
            + "AND state NOT IN ('rolling_back', 'rolled_back') AND EXISTS (SELECT 1 FROM j) RETURNING job, seq), "
            + "e AS (INSERT INTO sluice.events (job, segment, agent, kind, message) SELECT job, seq, $2, 'segment.rolling_back', "
            + "'segment ' || seq || ' rolling back' FROM s) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $2, 'job.rolling_back', "
            + "'job ' || name || ' rolling back (was ' || was || '): ' || $3 FROM j WHERE was <> 'rolling_back'")
        .execute(Tuple.of(job, actor, reason)).mapEmpty();
  }

  /** One segment's target range deleted. */
  public Future<Void> segmentRolledBack(String job, int seq, long deleted) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.segments SET state = 'rolled_back', updated_at = now() "
            + "WHERE job = $1 AND seq = $2 AND state = 'rolling_back' RETURNING job, seq) "
            + "INSERT INTO sluice.events (job, segment, agent, kind, message) SELECT job, seq, $3, 'segment.rolled_back', "
            + "'segment ' || seq || ' rolled back: ' || $4 || ' rows deleted from the target' FROM u")
        .execute(Tuple.of(job, seq, actor, String.valueOf(deleted))).mapEmpty();
  }

  /** The target table Sluice created was dropped (in the same transaction): every segment is rolled back. */
  public Future<Void> tableDropped(String job, String table) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.segments SET state = 'rolled_back', updated_at = now() "
            + "WHERE job = $1 AND state = 'rolling_back' RETURNING job, seq), "
            + "e AS (INSERT INTO sluice.events (job, segment, agent, kind, message) SELECT job, seq, $2, 'segment.rolled_back', "
            + "'segment ' || seq || ' rolled back: target table dropped' FROM u) "
            + "INSERT INTO sluice.events (job, agent, kind, message) VALUES ($1, $2, 'target.dropped', "
            + "'target table ' || $3 || ' dropped: Sluice created it for this job')")
        .execute(Tuple.of(job, actor, table)).mapEmpty();
  }

  /** rolling_back -> rolled_back, once every segment is rolled back and capture is removed. */
  public Future<Void> finishRollback(String job) {
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET state = 'rolled_back', finished_at = now(), updated_at = now(), "
            + "complete_requested = false WHERE name = $1 AND state = 'rolling_back' "
            + "AND NOT EXISTS (SELECT 1 FROM sluice.segments WHERE job = $1 AND state <> 'rolled_back') RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $2, 'job.rolled_back', "
            + "'job ' || name || ' rolled back: its rows are gone from the target, capture removed from the source' FROM u")
        .execute(Tuple.of(job, actor)).mapEmpty();
  }

  /** An audit event that accompanies no state change (a mismatch found, a check that differs). */
  public Future<Void> event(String job, Integer segment, String kind, String message, JsonObject details) {
    return db.preparedQuery("INSERT INTO sluice.events (job, segment, agent, kind, message, details) VALUES ($1, $2, $3, $4, $5, $6)")
        .execute(Tuple.of(job, segment, actor, kind, message, details)).mapEmpty();
  }

  /** A rolled-back job is forgotten (its events stay) so that the same name can be planned afresh. */
  public Future<Void> forgetRolledBack(String job) {
    return db.preparedQuery("WITH d AS (DELETE FROM sluice.jobs WHERE name = $1 AND state = 'rolled_back' RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $2, 'job.replanning', "
            + "'job ' || name || ' was rolled back; planning it afresh' FROM d")
        .execute(Tuple.of(job, actor)).mapEmpty();
  }
}
