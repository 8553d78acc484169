package dev.sluice.ledger;

import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import dev.sluice.plan.PlannedSegment;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads and writes the ledger. Design notes:
 *
 * <ul>
 *   <li>Every job or segment state change is one statement that updates the row and appends its
 *       audit event (a data-modifying CTE), so the trail can never disagree with the state.
 *   <li>Segments are claimed with {@code FOR UPDATE SKIP LOCKED}; each claim bumps the lease epoch.
 *       A write by an agent that is no longer owner at that epoch updates nothing and is refused
 *       with {@link LeaseLostException}.
 *   <li>A lease is valid while the agent is owner, at that epoch, and {@code lease_expires_at} is
 *       still ahead of the database's {@code now()}. An expired lease is lost even before anyone
 *       takes it over: the heartbeat does not revive it and fenced writes are refused, so an agent
 *       that froze past its lease cannot slip a write in just before the takeover.
 * </ul>
 */
public final class Ledger {
  private final Pool db;
  private final String agentId;
  private final HeldLeases leases = new HeldLeases();
  private final LongAdder writes = new LongAdder();
  private final Roster roster;

  public Ledger(Pool db, String agentId) {
    this.db = db;
    this.agentId = agentId;
    this.roster = new Roster(db, agentId, leases, writes);
  }

  public String agentId() {
    return agentId;
  }

  public Pool pool() {
    return db;
  }

  // ---- agents ----

  /** This agent's registration, heartbeat and hand-back (see {@link Roster}). */
  public Roster roster() {
    return roster;
  }

  /** The leases this agent's workers hold; the heartbeat renews exactly these. */
  public HeldLeases leases() {
    return leases;
  }

  /** Ledger writes (statements) this agent has made; published with its heartbeat. */
  public long writes() {
    return writes.sum();
  }

  // ---- jobs ----

  public record JobRow(String name, JobState state, String reason, String sourceTable, String targetTable,
      List<String> keyColumns, boolean targetCreated, boolean paused, String pauseReason, String pausedBy, int segmentsPlanned,
      long rowsPlanned) {
    /** Why the job is paused, naming who paused it; null while it is not paused. */
    public String pauseSentence() {
      return paused ? Ledger.pauseSentence(pausedBy, pauseReason) : null;
    }
  }

  /**
   * "paused by the drift monitor: schema drift: ...", "paused by api (10.0.0.7)": who paused a job
   * (null for a pause recorded before the ledger kept it) and why (null: no reason given).
   */
  public static String pauseSentence(String pausedBy, String reason) {
    return "paused" + (pausedBy == null ? "" : " by " + pausedBy) + (reason == null ? "" : ": " + reason);
  }

  public Future<JobRow> job(String name) {
    return job(db, name);
  }

  public static Future<JobRow> job(SqlClient db, String name) {
    return db.preparedQuery("SELECT name, state, reason, source_table, target_table, key_columns, target_created, paused, "
            + "pause_reason, paused_by, segments_planned, rows_planned FROM sluice.jobs WHERE name = $1")
        .execute(Tuple.of(name))
        .map(rows -> rows.size() == 0 ? null : jobRow(rows.iterator().next()));
  }

  private static JobRow jobRow(Row r) {
    return new JobRow(r.getString(0), JobState.of(r.getString(1)), r.getString(2), r.getString(3), r.getString(4),
        Arrays.asList(r.getArrayOfStrings(5)), r.getBoolean(6), r.getBoolean(7), r.getString(8), r.getString(9), r.getInteger(10), r.getLong(11));
  }

  /**
   * Records a job and its plan in one transaction. Returns false (and writes nothing) when another
   * agent recorded the job first; its plan is then the one in force.
   */
  public Future<Boolean> createJob(JobShape shape, String createTargetDdl, List<PlannedSegment> plan) {
    String name = shape.job().name();
    long rows = plan.stream().mapToLong(PlannedSegment::rows).sum();
    boolean[] created = {false};
    return db.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtext('sluice.plan.' || $1))")
        .execute(Tuple.of(name))
        .compose(v -> conn.preparedQuery("SELECT 1 FROM sluice.jobs WHERE name = $1").execute(Tuple.of(name)))
        .compose(existing -> {
          // The target table is created in the same transaction that records the job, so the ledger
          // always knows whether Sluice created it (and may drop it on rollback).
          if (existing.size() > 0 || createTargetDdl == null) return Future.succeededFuture();
          String t = shape.job().target().table().sql();
          return conn.query("SELECT to_regclass('" + t.replace("'", "''") + "') IS NULL").execute().compose(r -> {
            if (!r.iterator().next().getBoolean(0)) return Future.succeededFuture();
            created[0] = true;
            return conn.query(createTargetDdl).execute().mapEmpty();
          });
        })
        .compose(v -> conn.preparedQuery("INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types, "
                + "target_created, segments_planned, rows_planned, started_at) VALUES ($1, 'copying', $2, $3, $4, $5, $6, $7, $8, now()) "
                + "ON CONFLICT (name) DO NOTHING")
            .execute(Tuple.of(name, shape.job().source().table().toString(), shape.job().target().table().toString(),
                shape.sourceKey().toArray(new String[0]), shape.keyTypes().toArray(new String[0]), created[0], plan.size(), rows)))
        .compose(inserted -> {
          if (inserted.rowCount() == 0) return Future.succeededFuture(false);
          List<Tuple> batch = new ArrayList<>();
          for (PlannedSegment s : plan) {
            batch.add(Tuple.of(name, s.seq(), bound(s.range().lower()), bound(s.range().upper()), s.rows()));
          }
          return conn.preparedQuery("INSERT INTO sluice.segments (job, seq, lower_bound, upper_bound, rows_planned) "
                  + "VALUES ($1, $2, $3, $4, $5)").executeBatch(batch)
              .compose(v -> conn.preparedQuery("INSERT INTO sluice.events (job, agent, kind, message, details) VALUES ($1, $2, 'job.planned', $3, $4)")
                  .execute(Tuple.of(name, agentId, "job " + name + " planned: " + plan.size() + " segments, " + rows + " rows",
                      new JsonObject().put("segments", plan.size()).put("rows", rows).put("targetCreated", created[0]))))
              .map(true);
        }));
  }

  private static String[] bound(List<String> b) {
    return b == null ? null : b.toArray(new String[0]);
  }

  public Future<Void> setJobState(String job, JobState state, String reason) {
    writes.increment();
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET state = $2, reason = $3, updated_at = now(), "
            + "finished_at = CASE WHEN $2 IN ('completed', 'failed', 'aborted', 'rolled_back') THEN now() ELSE NULL END "
            // A job being rolled back only moves on through the rollback's own statements; a completed one never
            // moves (an abort or a late catch-up tick from an agent that has not seen it complete must not undo it).
            + "WHERE name = $1 AND state IS DISTINCT FROM $2 AND state NOT IN ('completed', 'rolling_back', 'aborted', 'rolled_back') "
            + "RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $4, 'job.' || $2, "
            + "'job ' || name || ' ' || replace($2, '_', ' ') || coalesce(': ' || $3, '') FROM u")
        .execute(Tuple.of(job, state.db(), reason, agentId)).mapEmpty();
  }

  /**
   * Pauses or resumes a job, recording who ({@code actor}) and why ({@code reason}, null: none given),
   * with its audit event. A job already in that state is left as it is.
   */
  public Future<Void> setPaused(String job, boolean paused, String reason, String actor) {
    writes.increment();
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET paused = $2, pause_reason = $3, "
            + "paused_by = CASE WHEN $2 THEN $5 END, updated_at = now() "
            + "WHERE name = $1 AND paused IS DISTINCT FROM $2 RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $4, "
            + "CASE WHEN $2 THEN 'job.paused' ELSE 'job.resumed' END, "
            + "CASE WHEN $2 THEN 'job ' || name || ' paused by ' || $5 || coalesce(': ' || $3, '') ELSE 'job ' || name || ' resumed by ' || $5 END FROM u")
        .execute(Tuple.of(job, paused, reason, agentId, actor)).mapEmpty();
  }

  // ---- segments ----

  /**
   * Claims the next pending segment (or one whose lease expired), or null: plan order, or the coldest ({@code heat}) first. The
   * redundant {@code state IN (..)} uses the partial index of unfinished segments (a late claim skips the verified ones).
   */
  public Future<Segment> claim(String job, Duration lease, boolean coldFirst) {
    return db.preparedQuery("WITH c AS (SELECT job, seq FROM sluice.segments WHERE job = $1 AND "
            + "state IN ('pending', 'copying', 'copied') AND (state = 'pending' OR lease_expires_at < now()) "
            + "ORDER BY CASE WHEN $4 THEN coalesce(heat, 0) ELSE 0 END, seq LIMIT 1 FOR UPDATE SKIP LOCKED), "
            + "u AS (UPDATE sluice.segments s SET state = 'copying', owner = $2, lease_epoch = s.lease_epoch + 1, "
            + "lease_expires_at = now() + make_interval(secs => $3), attempts = s.attempts + 1, started_at = now(), "
            + "updated_at = now() FROM c WHERE s.job = c.job AND s.seq = c.seq RETURNING s.*), "
            + "e AS (INSERT INTO sluice.events (job, segment, agent, kind, message, details) SELECT job, seq, $2, 'segment.copying', "
            + "'segment ' || seq || ' copying (attempt ' || attempts || ')', jsonb_build_object('epoch', lease_epoch) FROM u) "
            + "SELECT job, seq, lower_bound, upper_bound, state, rows_planned, rows_copied, attempts, last_error, owner, lease_epoch FROM u")
        .execute(Tuple.of(job, agentId, (double) lease.toMillis() / 1000.0, coldFirst))
        .map(rows -> {
          if (rows.size() == 0) return null;
          writes.increment();
          Segment s = segment(rows.iterator().next());
          leases.hold(s);
          return s;
        });
  }

  static Segment segment(Row r) {
    String[] lo = r.getArrayOfStrings(2);
    String[] hi = r.getArrayOfStrings(3);
    return new Segment(r.getString(0), r.getInteger(1),
        new KeyRange(lo == null ? null : Arrays.asList(lo), hi == null ? null : Arrays.asList(hi)),
        SegmentState.of(r.getString(4)), r.getLong(5), r.getLong(6), r.getInteger(7), r.getString(8), r.getString(9), r.getLong(10));
  }

  /** copying -> copied, with the source side's count and hash; fenced by the lease. */
  public Future<Void> markCopied(Segment s, long rows, long sourceRows, long sourceHash) {
    return fenced(s, "UPDATE sluice.segments SET state = 'copied', rows_copied = $5, source_rows = $6, source_hash = $7, "
            + "copied_at = now(), updated_at = now()",
        "'segment.copied', 'segment ' || seq || ' copied: ' || rows_copied || ' rows'",
        "state IN ('copying', 'copied')", rows, sourceRows, sourceHash);
  }

  /** copied -> verified; the lease ends with it. */
  public Future<Void> markVerified(Segment s, long targetRows, long targetHash) {
    return fenced(s, "UPDATE sluice.segments SET state = 'verified', target_rows = $5, target_hash = $6, verified_at = now(), "
            + "owner = NULL, lease_expires_at = NULL, last_error = NULL, updated_at = now()",
        "'segment.verified', 'segment ' || seq || ' verified: ' || target_rows || ' rows, hashes equal'",
        "state = 'copied'", targetRows, targetHash);
  }

  /**
   * copying -> verified without reading the target back ({@code verify.perSegment: false}): the
   * count is the rows the target's own write reported stored; no target hash. The lease ends with it.
   */
  public Future<Void> markCounted(Segment s, long rows, long sourceHash) {
    return fenced(s, "UPDATE sluice.segments SET state = 'verified', rows_copied = $5, source_rows = $5, source_hash = $6, "
            + "target_rows = $5, target_hash = NULL, copied_at = now(), verified_at = now(), owner = NULL, lease_expires_at = NULL, "
            + "last_error = NULL, updated_at = now()",
        "'segment.verified', 'segment ' || seq || ' counted: ' || target_rows || ' rows stored (not read back: verify.perSegment is off)'",
        "state IN ('copying', 'copied')", rows, sourceHash);
  }

  /** copied -> copying again, for a re-copy after a verification mismatch. */
  public Future<Void> markRecopy(Segment s, String why) {
    return fenced(s, "UPDATE sluice.segments SET state = 'copying', last_error = $5, updated_at = now()",
        "'segment.copying', 'segment ' || seq || ' re-copying: ' || last_error", "state = 'copied'", why);
  }

  /** Parks a segment as failed with its error (and the offending key when known); the lease ends. */
  public Future<Void> markFailed(Segment s, String error, String errorKey) {
    return fenced(s, "UPDATE sluice.segments SET state = 'failed', last_error = $5, error_key = $6, owner = NULL, "
            + "lease_expires_at = NULL, updated_at = now()",
        "'segment.failed', 'segment ' || seq || ' failed: ' || last_error",
        "state IN ('copying', 'copied')", error, errorKey);
  }

  /** Records a transient error on an in-flight segment (it stays claimed and is retried). */
  public Future<Void> noteRetry(Segment s, String error, long delayMs) {
    return fenced(s, "UPDATE sluice.segments SET last_error = $5, updated_at = now()",
        "'segment.retry', 'segment ' || seq || ' will retry in ' || " + delayMs + " || ' ms: ' || last_error",
        "state IN ('copying', 'copied')", error);
  }

  /**
   * Cuts an in-flight segment at {@code at}: it keeps {@code [lower, at)} (the {@code rowsCopied} rows
   * copied so far) and the rest {@code [at, upper)} becomes a new pending segment, in one statement with
   * its event. Fenced by the lease; the job row is locked first so concurrent cuts number their new
   * segments one after the other. Returns the new segment's number.
   */
  public Future<Integer> split(Segment s, List<String> at, long rowsCopied, String why) {
    String[] bound = at.toArray(new String[0]);
    return db.withTransaction(conn -> conn.preparedQuery("SELECT 1 FROM sluice.jobs WHERE name = $1 FOR UPDATE").execute(Tuple.of(s.job()))
        .compose(v -> conn.preparedQuery("WITH o AS (SELECT upper_bound, rows_planned FROM sluice.segments WHERE job = $1 AND seq = $2), "
                + "u AS (UPDATE sluice.segments SET upper_bound = $5, rows_planned = $6, updated_at = now() "
                + "WHERE job = $1 AND seq = $2 AND owner = $3 AND lease_epoch = $4 AND lease_expires_at > now() AND state = 'copying' RETURNING seq), "
                + "n AS (INSERT INTO sluice.segments (job, seq, lower_bound, upper_bound, rows_planned) "
                + "SELECT $1, (SELECT max(seq) + 1 FROM sluice.segments WHERE job = $1), $5, o.upper_bound, greatest(o.rows_planned - $6, 0) "
                + "FROM o, u RETURNING seq), "
                + "j AS (UPDATE sluice.jobs SET segments_planned = segments_planned + 1, updated_at = now() "
                + "WHERE name = $1 AND EXISTS (SELECT 1 FROM n)), "
                + "e AS (INSERT INTO sluice.events (job, segment, agent, kind, message, details) SELECT $1, $2, $3, 'segment.split', "
                + "'segment ' || $2 || ' cut after ' || $6 || ' rows (' || $7 || '); the rest is new segment ' || n.seq, "
                + "jsonb_build_object('newSegment', n.seq, 'at', $5::text[]) FROM n) "
                + "SELECT seq FROM n")
            .execute(Tuple.of(s.job(), s.seq(), agentId, s.epoch(), bound, rowsCopied, why)))
        .compose(rows -> rows.size() == 1
            ? Future.succeededFuture(rows.iterator().next().getInteger(0))
            : Future.failedFuture(new LeaseLostException(s.job(), s.seq(), s.epoch()))));
  }

  private Future<Void> fenced(Segment s, String update, String event, String fromState, Object... extra) {
    Tuple t = Tuple.of(s.job(), s.seq(), agentId, s.epoch());
    for (Object o : extra) t.addValue(o);
    String sql = "WITH u AS (" + update + " WHERE job = $1 AND seq = $2 AND owner = $3 AND lease_epoch = $4 "
        + "AND lease_expires_at > now() AND " + fromState
        + " RETURNING *), e AS (INSERT INTO sluice.events (job, segment, agent, kind, message, details) SELECT job, seq, $3, " + event
        + ", jsonb_build_object('epoch', lease_epoch) FROM u) SELECT count(*) FROM u";
    writes.increment();
    return db.preparedQuery(sql).execute(t).compose(rows -> rows.iterator().next().getLong(0) == 1
        ? Future.succeededFuture()
        : Future.failedFuture(new LeaseLostException(s.job(), s.seq(), s.epoch())));
  }

  /**
   * Records, once per lease, that this agent found its lease lost (expired or taken over) and
   * dropped the segment: an audit event only, the segment's state belongs to its new owner.
   */
  public Future<Void> leaseLost(Segment s, String how) {
    if (!leases.markLost(s)) return Future.succeededFuture();
    return event(s.job(), s.seq(), "segment.lease_lost", "segment " + s.seq() + ": agent " + agentId + " lost its lease (epoch "
        + s.epoch() + ", " + how + "); its writes are refused", new JsonObject().put("epoch", s.epoch()));
  }

  /** Puts parked failed segments back to pending; {@code seq} null means all of the job's. */
  public Future<Integer> retryFailed(String job, Integer seq, String actor) {
    writes.increment();
    return db.preparedQuery("WITH u AS (UPDATE sluice.segments SET state = 'pending', attempts = 0, owner = NULL, updated_at = now() "
            + "WHERE job = $1 AND state = 'failed' AND ($2::int IS NULL OR seq = $2) RETURNING job, seq), "
            + "e AS (INSERT INTO sluice.events (job, segment, agent, kind, message) SELECT job, seq, $3, 'segment.pending', "
            + "'segment ' || seq || ' queued for retry by ' || $4 FROM u), "
            + "j AS (UPDATE sluice.jobs SET state = 'copying', reason = NULL, finished_at = NULL, updated_at = now() "
            + "WHERE name = $1 AND state IN ('failed', 'aborted') AND EXISTS (SELECT 1 FROM u)) SELECT count(*) FROM u")
        .execute(Tuple.of(job, seq, agentId, actor))
        .map(rows -> rows.iterator().next().getLong(0).intValue());
  }

  /** Segment counts by state, and rows copied, for one job. */
  public record Progress(Map<SegmentState, Integer> segments, long rowsCopied, long rowsPlanned) {
    public int count(SegmentState s) {
      return segments.getOrDefault(s, 0);
    }

    public int total() {
      return segments.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Nothing left to copy or verify (failed segments wait for an operator). */
    public boolean finished() {
      return count(SegmentState.PENDING) + count(SegmentState.COPYING) + count(SegmentState.COPIED) == 0;
    }
  }

  public Future<Progress> progress(String job) {
    return progress(db, job);
  }

  public static Future<Progress> progress(SqlClient db, String job) {
    return db.preparedQuery("SELECT state, count(*)::int, coalesce(sum(rows_copied), 0)::bigint, coalesce(sum(rows_planned), 0)::bigint "
            + "FROM sluice.segments WHERE job = $1 GROUP BY state")
        .execute(Tuple.of(job))
        .map(rows -> {
          Map<SegmentState, Integer> m = new LinkedHashMap<>();
          long copied = 0;
          long planned = 0;
          for (Row r : rows) {
            SegmentState st = SegmentState.of(r.getString(0));
            m.put(st, r.getInteger(1));
            if (st == SegmentState.VERIFIED || st == SegmentState.COPIED) copied += r.getLong(2);
            planned += r.getLong(3);
          }
          return new Progress(m, copied, planned);
        });
  }

  /** Every job with its segment counts, for the API and {@code sluice status}. */
  public static Future<JsonArray> summary(SqlClient db) {
    return db.query("SELECT j.name, j.state, j.reason, j.source_table, j.target_table, j.paused, j.pause_reason, j.paused_by, "
            + "j.segments_planned, j.rows_planned, j.started_at::text, j.finished_at::text, "
            + "(SELECT coalesce(json_object_agg(state, n), '{}') FROM (SELECT state, count(*) n FROM sluice.segments s "
            + " WHERE s.job = j.name GROUP BY state) x)::text, "
            + "(SELECT coalesce(sum(rows_copied), 0) FROM sluice.segments s WHERE s.job = j.name AND s.state IN ('copied', 'verified'))::bigint "
            + "FROM sluice.jobs j ORDER BY j.name")
        .execute()
        .map(rows -> {
          JsonArray out = new JsonArray();
          for (Row r : rows) {
            out.add(new JsonObject()
                .put("name", r.getString(0)).put("state", r.getString(1)).put("reason", r.getString(2))
                .put("sourceTable", r.getString(3)).put("targetTable", r.getString(4))
                .put("paused", r.getBoolean(5)).put("pauseReason", r.getString(6)).put("pausedBy", r.getString(7))
                .put("segmentsPlanned", r.getInteger(8)).put("rowsPlanned", r.getLong(9))
                .put("startedAt", r.getString(10)).put("finishedAt", r.getString(11))
                .put("segments", new JsonObject(r.getString(12)))
                .put("rowsCopied", r.getLong(13)));
          }
          return out;
        });
  }

  /** Appends an audit event that accompanies no state change (operator actions, decisions). */
  public Future<Void> event(String job, Integer segment, String kind, String message, JsonObject details) {
    writes.increment();
    return db.preparedQuery("INSERT INTO sluice.events (job, segment, agent, kind, message, details) VALUES ($1, $2, $3, $4, $5, $6)")
        .execute(Tuple.of(job, segment, agentId, kind, message, details)).mapEmpty();
  }
}
