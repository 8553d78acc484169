package dev.sluice.ledger;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.util.List;

/**
 * The control schema {@code sluice} in the target database, created and upgraded by Sluice. Each
 * entry of {@link #MIGRATIONS} is applied once, in order, under an advisory lock so that agents
 * starting together do not race.
 */
public final class LedgerSchema {
  static final List<String> MIGRATIONS = List.of(
      // 1: jobs, segments, events, agents
      """
      CREATE TABLE sluice.jobs (
        name text PRIMARY KEY,
        state text NOT NULL,
        reason text,
        source_table text NOT NULL,
        target_table text NOT NULL,
        key_columns text[] NOT NULL,
        key_types text[] NOT NULL,
        target_created boolean NOT NULL DEFAULT false,
        paused boolean NOT NULL DEFAULT false,
        pause_reason text,
        segments_planned int NOT NULL DEFAULT 0,
        rows_planned bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE sluice.segments (
        job text NOT NULL REFERENCES sluice.jobs(name) ON DELETE CASCADE,
        seq int NOT NULL,
        lower_bound text[],
        upper_bound text[],
        state text NOT NULL DEFAULT 'pending',
        rows_planned bigint NOT NULL DEFAULT 0,
        rows_copied bigint NOT NULL DEFAULT 0,
        source_rows bigint,
        source_hash bigint,
        target_rows bigint,
        target_hash bigint,
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        error_key text,
        owner text,
        lease_epoch bigint NOT NULL DEFAULT 0,
        lease_expires_at timestamptz,
        started_at timestamptz,
        copied_at timestamptz,
        verified_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job, seq)
      );
      CREATE INDEX segments_job_state ON sluice.segments (job, state);
      CREATE TABLE sluice.events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        job text,
        segment int,
        agent text,
        kind text NOT NULL,
        message text NOT NULL,
        details jsonb
      );
      CREATE INDEX events_job_id ON sluice.events (job, id);
      CREATE TABLE sluice.agents (
        id text PRIMARY KEY,
        host text NOT NULL,
        pid bigint NOT NULL,
        version text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        stopped_at timestamptz
      );
      """,
      // 2: change capture, catch-up, verification reports, rollback
      """
      ALTER TABLE sluice.jobs
        ADD COLUMN target_key text[],
        ADD COLUMN target_had_rows boolean,
        ADD COLUMN capture_installed_at timestamptz,
        ADD COLUMN capture_removed_at timestamptz,
        ADD COLUMN changes_applied bigint NOT NULL DEFAULT 0,
        ADD COLUMN verify_report jsonb,
        ADD COLUMN complete_requested boolean NOT NULL DEFAULT false;
      ALTER TABLE sluice.segments ADD COLUMN changes_after_copy bigint NOT NULL DEFAULT 0;
      """,
      // 3: several agents: each agent's lease terms and ledger write count, and per job what each
      // agent publishes with its heartbeat (rows written, rows/s, segments held, its budget share)
      """
      ALTER TABLE sluice.agents
        ADD COLUMN lease_seconds double precision NOT NULL DEFAULT 30,
        ADD COLUMN heartbeat_seconds double precision NOT NULL DEFAULT 5,
        ADD COLUMN ledger_writes bigint NOT NULL DEFAULT 0;
      CREATE TABLE sluice.agent_jobs (
        agent text NOT NULL REFERENCES sluice.agents(id) ON DELETE CASCADE,
        job text NOT NULL,
        rows_written bigint NOT NULL DEFAULT 0,
        rows_per_second double precision NOT NULL DEFAULT 0,
        segments_held int NOT NULL DEFAULT 0,
        rate_share double precision,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (agent, job)
      );
      CREATE INDEX segments_owner ON sluice.segments (owner) WHERE owner IS NOT NULL;
      """,
      // 4: claims scan only unfinished segments (see Ledger.claim)
      """
      CREATE INDEX segments_unfinished ON sluice.segments (job, seq) WHERE state IN ('pending', 'copying', 'copied');
      """,
      // 5: each applied config version (secrets removed) and what changed from the one before
      """
      CREATE TABLE sluice.config_versions (
        id bigserial PRIMARY KEY,
        hash text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        agent text NOT NULL,
        cause text NOT NULL,
        content jsonb NOT NULL,
        changes jsonb
      );
      """,
      // 6: what several agents share through the ledger: an operator's rate budget for the whole job,
      // and each agent's health verdict per job (published with its heartbeat)
      """
      ALTER TABLE sluice.jobs ADD COLUMN pace_override jsonb;
      ALTER TABLE sluice.agent_jobs
        ADD COLUMN throttled boolean NOT NULL DEFAULT false,
        ADD COLUMN throttle_reason text,
        ADD COLUMN rate_factor double precision NOT NULL DEFAULT 1;
      """,
      // 7: planning with the traffic: the source's users hour by hour (additive sums, so agents and
      // flushes add up), each job's hours, the milestones already sent, final reports, and each
      // segment's heat (captured changes: hot segments are copied last)
      """
      CREATE TABLE sluice.traffic_hours (
        source text NOT NULL,
        hour timestamptz NOT NULL,
        seconds double precision NOT NULL DEFAULT 0,
        xacts double precision NOT NULL DEFAULT 0,
        xact_seconds double precision NOT NULL DEFAULT 0,
        busy_sum double precision NOT NULL DEFAULT 0,
        busy_n bigint NOT NULL DEFAULT 0,
        busy_max double precision NOT NULL DEFAULT 0,
        probe_sum double precision NOT NULL DEFAULT 0,
        probe_n bigint NOT NULL DEFAULT 0,
        probe_max double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (source, hour)
      );
      CREATE TABLE sluice.job_hours (
        job text NOT NULL,
        hour timestamptz NOT NULL,
        rows bigint NOT NULL DEFAULT 0,
        write_seconds double precision NOT NULL DEFAULT 0,
        run_seconds double precision NOT NULL DEFAULT 0,
        slowed_seconds double precision NOT NULL DEFAULT 0,
        wait_seconds jsonb NOT NULL DEFAULT '{}',
        allowed_sum double precision NOT NULL DEFAULT 0,
        allowed_n bigint NOT NULL DEFAULT 0,
        lag_max_seconds double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (job, hour)
      );
      CREATE TABLE sluice.notifications (
        job text NOT NULL,
        key text NOT NULL,
        kind text NOT NULL,
        agent text NOT NULL,
        sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job, key)
      );
      CREATE TABLE sluice.reports (
        id bigserial PRIMARY KEY,
        job text NOT NULL,
        outcome text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        report jsonb NOT NULL
      );
      CREATE INDEX reports_job ON sluice.reports (job, id);
      ALTER TABLE sluice.segments ADD COLUMN heat real, ADD COLUMN changes_seen bigint NOT NULL DEFAULT 0;
      """,
      // 8: change capture from the WAL: the mode a job's capture was installed in, whether what a
      // dropped replication slot covered must be verified again, and which agent reads a job's slot
      // (one at a time: a lease, renewed, taken over when it expires)
      """
      ALTER TABLE sluice.jobs ADD COLUMN capture_mode text, ADD COLUMN reverify_requested boolean NOT NULL DEFAULT false;
      CREATE TABLE sluice.capture_leases (
        job text PRIMARY KEY REFERENCES sluice.jobs(name) ON DELETE CASCADE,
        agent text NOT NULL,
        epoch bigint NOT NULL DEFAULT 1,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );
      """,
      // 9: who paused a job (an operator through the API, the dashboard or the CLI, or Sluice itself:
      // the drift monitor, the final verification), so the reason shown names them
      """
      ALTER TABLE sluice.jobs ADD COLUMN paused_by text;
      """,
      // 10: the change applier's epoch: an agent that takes a job's applier lock counts it up before it
      // applies anything, and every applier write is fenced by it, so the writes of an agent that lost
      // the lock (its session ended while a batch was in flight) land before the new applier's or not at all
      """
      ALTER TABLE sluice.jobs ADD COLUMN applier_epoch bigint NOT NULL DEFAULT 0;
      """);

  private LedgerSchema() {}

  public static int latestVersion() {
    return MIGRATIONS.size();
  }

  /** Creates or upgrades the schema; returns the version now in force. */
  public static Future<Integer> ensure(Pool target) {
    return target.withTransaction(conn -> conn.query("SELECT pg_advisory_xact_lock(hashtext('sluice.ledger.schema'))").execute()
        // Not CREATE SCHEMA IF NOT EXISTS: that checks CREATE on the database even when the schema exists, and a
        // DBA may create schema sluice for the agent's role instead of granting CREATE (docs/production.md).
        .compose(v -> conn.query("DO $$ BEGIN IF to_regnamespace('sluice') IS NULL THEN CREATE SCHEMA sluice; END IF; END $$").execute())
        .compose(v -> conn.query("CREATE TABLE IF NOT EXISTS sluice.schema_version (version int PRIMARY KEY, "
            + "applied_at timestamptz NOT NULL DEFAULT now())").execute())
        .compose(v -> conn.query("SELECT coalesce(max(version), 0) FROM sluice.schema_version").execute())
        .compose(rows -> {
          int current = rows.iterator().next().getInteger(0);
          if (current > MIGRATIONS.size()) {
            return Future.failedFuture(new IllegalStateException("the ledger schema is at version " + current
                + ", newer than this agent knows (" + MIGRATIONS.size() + "); upgrade the agent"));
          }
          Future<Void> chain = Future.succeededFuture();
          for (int v = current + 1; v <= MIGRATIONS.size(); v++) {
            int version = v;
            chain = chain.compose(x -> conn.query(MIGRATIONS.get(version - 1)).execute())
                .compose(x -> conn.query("INSERT INTO sluice.schema_version (version) VALUES (" + version + ")").execute())
                .mapEmpty();
          }
          return chain.map(x -> MIGRATIONS.size());
        }));
  }

  /**
   * What the target's role lacks to create and write the ledger, said as what to run; null when it has
   * it all. Read-only: for {@code validate} and the start of {@code run}, which otherwise failed at the
   * first migration with PostgreSQL's bare {@code permission denied for database archive}.
   */
  public static Future<String> missingPrivileges(io.vertx.sqlclient.SqlClient target) {
    return target.query("SELECT current_user::text, current_database()::text, to_regnamespace('sluice') IS NULL, "
            + "has_database_privilege(current_database(), 'CREATE'), CASE WHEN to_regnamespace('sluice') IS NULL THEN false "
            + "ELSE has_schema_privilege('sluice', 'USAGE') AND has_schema_privilege('sluice', 'CREATE') END, "
            + "(SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY c.relname) FROM pg_class c "
            + "WHERE c.relnamespace = to_regnamespace('sluice') AND c.relkind IN ('r', 'p') AND NOT pg_has_role(c.relowner, 'USAGE') "
            + "AND NOT (has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT') "
            + "AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE')))").execute()
        .map(rows -> {
          Row r = rows.iterator().next();
          String role = r.getString(0);
          String db = r.getString(1);
          if (r.getBoolean(2)) {
            return r.getBoolean(3) ? null : "the ledger (schema sluice in database " + db + ") needs CREATE on database " + db
                + ", which role " + role + " lacks: as a superuser, in " + db + ", CREATE SCHEMA sluice AUTHORIZATION " + role
                + " (or GRANT CREATE ON DATABASE " + db + " TO " + role + ")";
          }
          if (!r.getBoolean(4)) {
            return "the ledger needs USAGE and CREATE on schema sluice in database " + db + ", which role " + role
                + " lacks: ALTER SCHEMA sluice OWNER TO " + role + " (or GRANT USAGE, CREATE ON SCHEMA sluice TO " + role + ")";
          }
          String tables = r.getString(5);
          return tables == null ? null : "role " + role + " may not write the ledger's tables " + tables
              + " (another role owns them): GRANT that role to " + role + ", or run Sluice as it";
        });
  }

  /** True when the ledger schema exists (read-only check for {@code validate} and {@code status}). */
  public static Future<Boolean> exists(io.vertx.sqlclient.SqlClient target) {
    return target.query("SELECT to_regclass('sluice.jobs') IS NOT NULL").execute()
        .map(rows -> {
          Row r = rows.iterator().next();
          return r.getBoolean(0);
        });
  }
}
