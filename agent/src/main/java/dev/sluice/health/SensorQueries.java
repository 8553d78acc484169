package dev.sluice.health;

import dev.sluice.config.SensorSpec;

/**
 * The SQL behind each database sensor; each returns one float8. Sessions of Sluice itself
 * ({@code application_name} starting with {@code sluice-}) are left out where the sensor is about
 * other people's work: the agent's own transactions are capped by {@code segment.maxSeconds}.
 */
final class SensorQueries {
  private SensorQueries() {}

  static String sql(SensorSpec spec) {
    return switch (spec.kind()) {
      case PROBE, FOREGROUND_PROBE -> spec.sql();
      // On a standby: how far replay is behind (0 when everything received is replayed). On a
      // primary: the slowest standby's lag as it reports it.
      case REPLICATION_LAG -> "SELECT (CASE WHEN pg_is_in_recovery() THEN "
          + "CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
          + "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END "
          + "ELSE coalesce((SELECT max(extract(epoch FROM greatest(write_lag, flush_lag, replay_lag))) FROM pg_stat_replication), 0) END)::float8";
      case ACTIVE_BACKENDS -> "SELECT count(*)::float8 FROM pg_stat_activity WHERE state = 'active' "
          + "AND backend_type = 'client backend' AND pid <> pg_backend_pid()";
      case LOCK_WAITERS -> "SELECT count(*)::float8 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()";
      case OLDEST_TRANSACTION -> "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0)::float8 FROM pg_stat_activity "
          + "WHERE (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND pid <> pg_backend_pid() "
          + "AND coalesce(application_name, '') NOT LIKE 'sluice-%'";
      case WAL_RETAINED -> "SELECT coalesce(max(pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() "
          + "ELSE pg_current_wal_lsn() END, restart_lsn)), 0)::float8 / 1048576 FROM pg_replication_slots WHERE restart_lsn IS NOT NULL";
      // Other people's sessions inside a transaction now: executing, or between two statements of a
      // transaction (not one left open for over a second). A session whose state this role may not
      // see (no pg_read_all_stats) counts as busy: without the evidence, assume users are there. Such a
      // session's backend_type is hidden too, but its role, database and application_name are not: a
      // client's session has a role and a database (PostgreSQL's own processes, as hidden, have no role),
      // and any Sluice agent's sessions, whatever their role, are named sluice-* and are never users.
      // A visible session with no state yet is still starting (PostgreSQL lists it before it applies
      // its application_name and reports its first state): not in a transaction, and maybe a Sluice
      // agent's connection, so it does not count (it did: a blip held the copy slow for quietMs).
      case FOREGROUND -> "SELECT count(*)::float8 FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
          + "AND coalesce(application_name, '') NOT LIKE 'sluice-%' "
          + "AND ((backend_type = 'client backend' AND (state = 'active' OR (state LIKE 'idle in transaction%' "
          + "AND clock_timestamp() - state_change < interval '1 second'))) "
          + "OR (backend_type IS NULL AND state IS NULL AND usesysid IS NOT NULL AND datid IS NOT NULL))";
      case LOAD_AVERAGE -> throw new IllegalArgumentException("the load average is read from /proc/loadavg, not SQL");
    };
  }
}
