package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * The agents in the ledger: registration, the heartbeat, the clean-stop hand-back, and the list
 * every agent's API and {@code sluice status} show. Design notes:
 *
 * <ul>
 *   <li>All lease times are the database's {@code now()}, never an agent's clock, so clock skew
 *       between hosts cannot make two agents disagree about whether a lease has expired.
 *   <li>A heartbeat is one statement: it touches the agent row, renews the leases this agent is
 *       working on (only at their epoch, only while unexpired: an expired lease is lost, never
 *       revived), publishes the agent's figures per job, and reads how many agents share each job's
 *       rate budget.
 *   <li>An agent is alive while its last heartbeat is younger than its own lease term: exactly the
 *       time its leases stay valid without renewal.
 * </ul>
 */
public final class Roster {
  private final Pool db;
  private final String agentId;
  private final HeldLeases leases;
  private final LongAdder writes;

  Roster(Pool db, String agentId, HeldLeases leases, LongAdder writes) {
    this.db = db;
    this.agentId = agentId;
    this.leases = leases;
    this.writes = writes;
  }

  /**
   * Registers this agent. Refused while another live process (another host or pid) is registered
   * under the same id: two processes with one id would count as one agent in the rate budget, and
   * one's clean stop would hand back the other's leases.
   */
  public Future<Void> register(String host, long pid, String version, Duration lease, Duration heartbeat) {
    writes.increment();
    return db.preparedQuery("WITH gone AS (DELETE FROM sluice.agents o WHERE o.heartbeat_at < now() - interval '7 days' "
            + "AND NOT EXISTS (SELECT 1 FROM sluice.segments s WHERE s.owner = o.id)), "
            + "a AS (INSERT INTO sluice.agents AS g (id, host, pid, version, lease_seconds, heartbeat_seconds) VALUES ($1, $2, $3, $4, $5, $6) "
            + "ON CONFLICT (id) DO UPDATE SET host = $2, pid = $3, version = $4, started_at = now(), heartbeat_at = now(), "
            + "stopped_at = NULL, lease_seconds = $5, heartbeat_seconds = $6 "
            + "WHERE g.stopped_at IS NOT NULL OR g.heartbeat_at + make_interval(secs => g.lease_seconds) < now() "
            + "OR (g.host = $2 AND g.pid = $3) RETURNING id), "
            + "e AS (INSERT INTO sluice.events (agent, kind, message, details) SELECT id, 'agent.started', "
            + "'agent ' || id || ' started on ' || $2 || ' (pid ' || $3 || ')', "
            + "jsonb_build_object('leaseSeconds', $5, 'heartbeatSeconds', $6, 'version', $4) FROM a) "
            + "SELECT (SELECT count(*) FROM a), (SELECT host || ' pid ' || pid FROM sluice.agents WHERE id = $1)")
        .execute(Tuple.of(agentId, host, pid, version, seconds(lease), seconds(heartbeat)))
        .compose(rows -> {
          Row r = rows.iterator().next();
          if (r.getLong(0) == 1) return Future.succeededFuture();
          return Future.failedFuture(new IllegalStateException("agent id " + agentId + " is in use by a live agent on " + r.getString(1)
              + "; give every agent its own agent.id (or leave it unset for a unique default)"));
        });
  }

  /**
   * What this agent publishes about one job with each heartbeat: its figures, and its own health
   * verdict (throttled and why, and the share of the rate its sensors' headroom allows).
   */
  public record JobFigures(String job, long rowsWritten, double rowsPerSecond, Double rateShare, boolean throttled,
      String throttleReason, double rateFactor) {
    public JobFigures(String job, long rowsWritten, double rowsPerSecond, Double rateShare) {
      this(job, rowsWritten, rowsPerSecond, rateShare, false, null, 1.0);
    }
  }

  /** An operator's rate budget for a whole job, in force on every agent until the config's pace changes. */
  public record Budget(Double rowsPerSecond, long burstRows, String actor) {}

  /** The other live agents' health verdicts on a job, combined: throttled if any is, the lowest rate factor. */
  public record FleetHealth(boolean throttled, String reason, double rateFactor) {
    public static final FleetHealth NONE = new FleetHealth(false, null, 1.0);
  }

  /**
   * What the heartbeat learnt about one job: how many agents share its rate budget (this one plus
   * every other agent holding a live lease on it), the operator's budget if one is set, and the other
   * agents' health verdicts.
   */
  public record JobView(int sharing, Budget budget, FleetHealth others) {}

  /** The outcome of a heartbeat: the leases it could not renew (lost: expired or taken over), and each job's view. */
  public record Beat(List<HeldLeases.Lease> lost, Map<String, JobView> jobs) {}

  public Future<Beat> heartbeat(Duration lease, List<JobFigures> jobs) {
    List<HeldLeases.Lease> held = leases.live();
    String[] hJob = new String[held.size()];
    Integer[] hSeq = new Integer[held.size()];
    Long[] hEpoch = new Long[held.size()];
    for (int i = 0; i < held.size(); i++) {
      hJob[i] = held.get(i).job();
      hSeq[i] = held.get(i).seq();
      hEpoch[i] = held.get(i).epoch();
    }
    String[] jName = new String[jobs.size()];
    Long[] jRows = new Long[jobs.size()];
    Double[] jRate = new Double[jobs.size()];
    Integer[] jHeld = new Integer[jobs.size()];
    Double[] jShare = new Double[jobs.size()];
    Boolean[] jThrottled = new Boolean[jobs.size()];
    String[] jReason = new String[jobs.size()];
    Double[] jFactor = new Double[jobs.size()];
    for (int i = 0; i < jobs.size(); i++) {
      JobFigures f = jobs.get(i);
      jName[i] = f.job();
      jRows[i] = f.rowsWritten();
      jRate[i] = f.rowsPerSecond();
      jHeld[i] = leases.count(f.job());
      jShare[i] = f.rateShare();
      jThrottled[i] = f.throttled();
      jReason[i] = f.throttleReason();
      jFactor[i] = f.rateFactor();
    }
    writes.increment();
    Tuple t = Tuple.of(agentId, seconds(lease), writes.sum());
    t.addArrayOfString(hJob).addArrayOfInteger(hSeq).addArrayOfLong(hEpoch);
    t.addArrayOfString(jName).addArrayOfLong(jRows).addArrayOfDouble(jRate).addArrayOfInteger(jHeld).addArrayOfDouble(jShare);
    t.addArrayOfBoolean(jThrottled).addArrayOfString(jReason).addArrayOfDouble(jFactor);
    return db.preparedQuery("WITH a AS (UPDATE sluice.agents SET heartbeat_at = now(), stopped_at = NULL, ledger_writes = $3 WHERE id = $1), "
            + "r AS (UPDATE sluice.segments s SET lease_expires_at = now() + make_interval(secs => $2) "
            + " FROM unnest($4::text[], $5::int[], $6::bigint[]) AS h(job, seq, epoch) "
            + " WHERE s.job = h.job AND s.seq = h.seq AND s.lease_epoch = h.epoch AND s.owner = $1 "
            + " AND s.state IN ('copying', 'copied') AND s.lease_expires_at > now() RETURNING s.job, s.seq, s.lease_epoch), "
            + "p AS (INSERT INTO sluice.agent_jobs AS aj (agent, job, rows_written, rows_per_second, segments_held, rate_share, "
            + " throttled, throttle_reason, rate_factor, updated_at) "
            + " SELECT $1, x.job, x.rows, x.rate, x.held, x.share, x.throttled, x.reason, x.factor, now() "
            + " FROM unnest($7::text[], $8::bigint[], $9::float8[], $10::int[], $11::float8[], $12::bool[], $13::text[], $14::float8[]) "
            + " AS x(job, rows, rate, held, share, throttled, reason, factor) "
            + " ON CONFLICT (agent, job) DO UPDATE SET rows_written = EXCLUDED.rows_written, rows_per_second = EXCLUDED.rows_per_second, "
            + " segments_held = EXCLUDED.segments_held, rate_share = EXCLUDED.rate_share, throttled = EXCLUDED.throttled, "
            + " throttle_reason = EXCLUDED.throttle_reason, rate_factor = EXCLUDED.rate_factor, updated_at = now()) "
            + "SELECT 'renewed', job, seq, lease_epoch, NULL::text, NULL::text FROM r "
            + "UNION ALL SELECT 'job', x.job, 1 + (SELECT count(DISTINCT o.owner) FROM sluice.segments o WHERE o.job = x.job "
            + " AND o.state IN ('copying', 'copied') AND o.owner <> $1 AND o.lease_expires_at > now())::int, 0, "
            + " (SELECT pace_override::text FROM sluice.jobs WHERE name = x.job), "
            + " (SELECT json_build_object('throttled', coalesce(bool_or(aj.throttled), false), 'factor', coalesce(min(aj.rate_factor), 1), "
            + "   'reason', string_agg(CASE WHEN aj.throttled THEN 'agent ' || aj.agent || ': ' || coalesce(aj.throttle_reason, 'throttled') END, "
            + "   '; ' ORDER BY aj.agent))::text "
            + "  FROM sluice.agent_jobs aj JOIN sluice.agents g ON g.id = aj.agent WHERE aj.job = x.job AND aj.agent <> $1 "
            + "  AND g.stopped_at IS NULL AND g.heartbeat_at + make_interval(secs => g.lease_seconds) > now()) "
            + "FROM unnest($7::text[]) AS x(job)")
        .execute(t)
        .map(rows -> {
          Set<HeldLeases.Lease> renewed = new HashSet<>();
          Map<String, JobView> views = new LinkedHashMap<>();
          for (Row r : rows) {
            if (r.getString(0).equals("renewed")) {
              renewed.add(new HeldLeases.Lease(r.getString(1), r.getInteger(2), r.getLong(3)));
            } else {
              views.put(r.getString(1), new JobView(r.getInteger(2), budget(r.getString(4)), fleetHealth(r.getString(5))));
            }
          }
          List<HeldLeases.Lease> lost = new ArrayList<>();
          for (HeldLeases.Lease l : held) if (!renewed.contains(l)) lost.add(l);
          return new Beat(lost, views);
        })
        .compose(beat -> beat.lost().isEmpty() ? Future.succeededFuture(beat)
            : finishedHere(beat.lost()).map(done -> new Beat(beat.lost().stream().filter(l -> !done.contains(l)).toList(), beat.jobs())));
  }

  /**
   * Of leases a heartbeat did not renew, those whose segment this agent finished or handed back itself
   * (still at its epoch, no owner: verified, parked failed or released) rather than lost. A worker may
   * finish its segment between the heartbeat's list of held leases and its statement, or while the
   * statement waits for the segment's row; a new statement sees that commit, the heartbeat's snapshot
   * may not.
   */
  private Future<Set<HeldLeases.Lease>> finishedHere(List<HeldLeases.Lease> candidates) {
    String[] job = new String[candidates.size()];
    Integer[] seq = new Integer[candidates.size()];
    Long[] epoch = new Long[candidates.size()];
    for (int i = 0; i < candidates.size(); i++) {
      job[i] = candidates.get(i).job();
      seq[i] = candidates.get(i).seq();
      epoch[i] = candidates.get(i).epoch();
    }
    Tuple t = Tuple.tuple().addArrayOfString(job).addArrayOfInteger(seq).addArrayOfLong(epoch);
    return db.preparedQuery("SELECT s.job, s.seq, s.lease_epoch FROM sluice.segments s "
            + "JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS h(job, seq, epoch) ON s.job = h.job AND s.seq = h.seq "
            + "WHERE s.lease_epoch = h.epoch AND s.owner IS NULL")
        .execute(t)
        .map(rows -> {
          Set<HeldLeases.Lease> done = new HashSet<>();
          for (Row r : rows) done.add(new HeldLeases.Lease(r.getString(0), r.getInteger(1), r.getLong(2)));
          return done;
        });
  }

  private static Budget budget(String json) {
    if (json == null) return null;
    JsonObject o = new JsonObject(json);
    Number rate = o.getNumber("rowsPerSecond");
    return new Budget(rate == null ? null : rate.doubleValue(), o.getLong("burstRows", 1L), o.getString("actor"));
  }

  private static FleetHealth fleetHealth(String json) {
    if (json == null) return FleetHealth.NONE;
    JsonObject o = new JsonObject(json);
    return new FleetHealth(o.getBoolean("throttled", false), o.getString("reason"), o.getNumber("factor", 1.0).doubleValue());
  }

  /**
   * Sets the rate budget of a whole job, for every agent (an operator's change through any agent's
   * API): recorded on the job with its audit event, read by every agent's next heartbeat. Null rate:
   * unpaced.
   */
  public Future<Void> setBudget(String job, Double rowsPerSecond, long burstRows, String actor, String message, Double previous) {
    writes.increment();
    JsonObject budget = new JsonObject().put("rowsPerSecond", rowsPerSecond).put("burstRows", burstRows).put("actor", actor);
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET pace_override = $2, updated_at = now() WHERE name = $1 RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message, details) SELECT name, $3, 'operator.pace', $4, $5 FROM u")
        .execute(Tuple.of(job, budget, agentId, message,
            new JsonObject().put("rowsPerSecond", rowsPerSecond).put("previous", previous).put("actor", actor)))
        .mapEmpty();
  }

  /** Drops an operator's budget (the config's pace changed and is in force again on every agent). */
  public Future<Void> clearBudget(String job, String why) {
    writes.increment();
    return db.preparedQuery("WITH u AS (UPDATE sluice.jobs SET pace_override = NULL, updated_at = now() "
            + "WHERE name = $1 AND pace_override IS NOT NULL RETURNING name) "
            + "INSERT INTO sluice.events (job, agent, kind, message) SELECT name, $2, 'job.pace', "
            + "'job ' || name || ': the operator''s rate budget is dropped, the config''s pace is in force again: ' || $3 FROM u")
        .execute(Tuple.of(job, agentId, why)).mapEmpty();
  }

  /** On a clean stop: hand back in-flight segments at once instead of letting their leases expire. */
  public Future<Void> releaseAll(String reason) {
    writes.increment();
    return db.preparedQuery("WITH u AS (UPDATE sluice.segments SET state = 'pending', owner = NULL, lease_expires_at = NULL, "
            + "updated_at = now() WHERE owner = $1 AND state IN ('copying', 'copied') RETURNING job, seq, lease_epoch), "
            + "e AS (INSERT INTO sluice.events (job, segment, agent, kind, message, details) "
            + "SELECT job, seq, $1, 'segment.released', 'segment ' || seq || ' released: ' || $2, jsonb_build_object('epoch', lease_epoch) FROM u), "
            + "a AS (UPDATE sluice.agents SET stopped_at = now(), ledger_writes = $3 WHERE id = $1), "
            + "j AS (UPDATE sluice.agent_jobs SET rows_per_second = 0, segments_held = 0, updated_at = now() WHERE agent = $1), "
            + "x AS (INSERT INTO sluice.events (agent, kind, message) VALUES ($1, 'agent.stopped', 'agent ' || $1 || ' stopped: ' || $2)) "
            + "SELECT count(*) FROM u")
        .execute(Tuple.of(agentId, reason, writes.sum())).mapEmpty();
  }

  /**
   * Agents alive now, or seen within the last hour: identity, liveness, last heartbeat, segments
   * held (live leases, from the segments themselves), and per job what each agent published.
   */
  /** Whether the ledger has the agents' tables yet (a ledger written by an older agent may not). */
  public static Future<Boolean> exists(SqlClient db) {
    return db.query("SELECT to_regclass('sluice.agent_jobs') IS NOT NULL").execute().map(rows -> rows.iterator().next().getBoolean(0));
  }

  public static Future<JsonArray> agents(SqlClient db) {
    return db.query("SELECT a.id, a.host, a.pid, a.version, a.started_at::text, a.heartbeat_at::text, a.stopped_at::text, "
            + "(a.stopped_at IS NULL AND a.heartbeat_at + make_interval(secs => a.lease_seconds) > now()) AS alive, "
            + "extract(epoch FROM now() - a.heartbeat_at)::float8, a.lease_seconds, a.heartbeat_seconds, a.ledger_writes, "
            + "(SELECT count(*) FROM sluice.segments s WHERE s.owner = a.id AND s.state IN ('copying', 'copied') "
            + " AND s.lease_expires_at > now())::int, "
            + "(SELECT coalesce(json_agg(json_build_object('job', j.job, 'rowsWritten', j.rows_written, "
            + " 'rowsPerSecond', j.rows_per_second, 'rateShare', j.rate_share, 'updatedAt', j.updated_at::text, "
            + " 'throttled', j.throttled, 'throttleReason', j.throttle_reason, 'rateFactor', j.rate_factor, "
            + " 'segmentsHeld', (SELECT count(*) FROM sluice.segments s WHERE s.job = j.job AND s.owner = a.id "
            + "   AND s.state IN ('copying', 'copied') AND s.lease_expires_at > now())) ORDER BY j.job), '[]') "
            + " FROM sluice.agent_jobs j WHERE j.agent = a.id)::text "
            + "FROM sluice.agents a WHERE a.heartbeat_at > now() - interval '1 hour' OR EXISTS "
            + "(SELECT 1 FROM sluice.segments s WHERE s.owner = a.id) ORDER BY a.started_at, a.id")
        .execute()
        .map(rows -> {
          JsonArray out = new JsonArray();
          for (Row r : rows) {
            boolean alive = r.getBoolean(7);
            JsonArray jobs = new JsonArray(r.getString(13));
            double rate = 0;
            for (int i = 0; i < jobs.size(); i++) {
              JsonObject j = jobs.getJsonObject(i);
              // A dead or stopped agent's last published rate is history, not a rate.
              if (!alive) j.put("rowsPerSecond", 0.0);
              rate += j.getDouble("rowsPerSecond", 0.0);
            }
            out.add(new JsonObject()
                .put("id", r.getString(0)).put("host", r.getString(1)).put("pid", r.getLong(2)).put("version", r.getString(3))
                .put("startedAt", r.getString(4)).put("heartbeatAt", r.getString(5)).put("stoppedAt", r.getString(6))
                .put("alive", alive).put("heartbeatAgeSeconds", Math.round(r.getDouble(8) * 10) / 10.0)
                .put("leaseSeconds", r.getDouble(9)).put("heartbeatSeconds", r.getDouble(10))
                .put("ledgerWrites", r.getLong(11)).put("segmentsHeld", r.getInteger(12))
                .put("rowsPerSecond", Math.round(rate)).put("jobs", jobs));
          }
          return out;
        });
  }

  /**
   * Rows written to each ledger table by all agents together, from PostgreSQL's statistics
   * (cumulative since the statistics were last reset; reported with a delay of up to a second).
   */
  public static Future<JsonObject> rowWrites(SqlClient db) {
    return db.query("SELECT relname::text, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
            + "WHERE schemaname = 'sluice' ORDER BY relname")
        .execute()
        .map(rows -> {
          JsonObject out = new JsonObject();
          for (Row r : rows) {
            out.put(r.getString(0), new JsonObject().put("inserts", r.getLong(1)).put("updates", r.getLong(2)).put("deletes", r.getLong(3)));
          }
          return out;
        });
  }

  private static double seconds(Duration d) {
    return d.toMillis() / 1000.0;
  }
}
