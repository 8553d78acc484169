package dev.sluice.capture;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the source can give a job change capture from its write-ahead log, and if not, exactly
 * why and what to change. Read-only: one query over the catalogs and settings, as the agent's role.
 *
 * <p>Logical capture needs: PostgreSQL 14 or later (pgoutput's logical messages carry the heartbeat);
 * {@code wal_level = logical}; a role that may open a replication connection and create a slot
 * (superuser, the REPLICATION attribute, or membership in {@code rds_replication} on Amazon RDS); a
 * free replication slot and WAL sender (unless the job's slot exists already); the job's publication,
 * or the right to create it (CREATE on the database and ownership of the table); and a replica
 * identity that covers the job's key, so PostgreSQL writes the old key of deletes and key changes.
 * Whether pg_hba.conf admits the replication connection is found only by opening one.
 */
public final class LogicalCapability {
  private LogicalCapability() {}

  /** One thing that stands in the way, and what to do about it. */
  public record Problem(String what, String fix) {
    @Override
    public String toString() {
      return what + ": " + fix;
    }
  }

  /** The source's answer for one job: no problems means logical capture is possible. */
  public record Verdict(List<Problem> problems, boolean slotExists) {
    public boolean possible() {
      return problems.isEmpty();
    }

    /** One sentence for {@code sluice validate} and the logs. */
    public String explain() {
      if (possible()) return "logical decoding is available";
      List<String> parts = new ArrayList<>();
      for (Problem p : problems) parts.add(p.toString());
      return String.join("; ", parts);
    }
  }

  static final String SQL = "SELECT current_setting('server_version_num')::int, current_setting('wal_level'), "
      + "current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_replication_slots)::int, "
      + "EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1), "
      + "current_setting('max_wal_senders')::int, (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::int, "
      + "r.rolsuper OR r.rolreplication OR EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication' "
      + "AND pg_has_role(current_user, g.oid, 'MEMBER')), "
      + "EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1), "
      + "EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = $1 "
      + "AND pr.prrelid = c.oid), "
      + "has_database_privilege(current_database(), 'CREATE'), pg_has_role(current_user, c.relowner, 'USAGE'), "
      + "c.relreplident::text, "
      // The replica identity's columns: the primary key's (DEFAULT), the chosen index's (USING INDEX), all (FULL).
      + "CASE c.relreplident WHEN 'f' THEN ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 "
      + "AND NOT attisdropped) ELSE ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
      + "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary) "
      + "OR (c.relreplident = 'i' AND i.indisreplident))) END, current_user::text, "
      + "pg_get_userbyid(c.relowner)::text "
      + "FROM pg_class c, pg_roles r WHERE c.oid = $2::regclass AND r.rolname = current_user";

  /**
   * Opens (and closes) a replication connection as the agent will: null when the source admits it,
   * else why not and what to change. Blocking: call it on a worker thread.
   */
  public static String replicationRefusal(dev.sluice.db.ConnectionSettings o) {
    try (java.sql.Connection c = SourceJdbc.replication(o, "sluice-validate")) {
      return null;
    } catch (java.sql.SQLException e) {
      return "the source refuses a replication connection for role " + o.user() + " (" + e.getMessage() + "): allow it in "
          + "pg_hba.conf with a line for database " + o.db().database() + " (the keyword 'replication' there is for physical "
          + "replication only)";
    }
  }

  /**
   * {@link #check}, and when the catalogs allow it, a replication connection opened and closed (on a
   * worker thread) to be sure pg_hba.conf admits it.
   */
  public static Future<Verdict> checkWithConnection(io.vertx.core.Vertx vertx, SqlClient source, dev.sluice.db.ConnectionSettings o,
      String job, String tableSql, List<String> key) {
    return check(source, job, tableSql, key).compose(v -> !v.possible() ? Future.succeededFuture(v)
        : vertx.executeBlocking(() -> replicationRefusal(o), false).map(refusal -> refusal == null ? v
            : new Verdict(List.of(new Problem("replication connection refused", refusal)), v.slotExists())));
  }

  /** What the catalogs and settings say, as read by {@link #SQL}. */
  public record Facts(int version, String walLevel, int maxSlots, int slotsUsed, boolean slotExists, int maxSenders, int sendersUsed,
      boolean mayReplicate, boolean publication, boolean publishesTable, boolean createOnDatabase, boolean ownsTable,
      String replicaIdentity, List<String> identityColumns, String role, String tableOwner) {
    static Facts of(Row r) {
      return new Facts(r.getInteger(0), r.getString(1), r.getInteger(2), r.getInteger(3), r.getBoolean(4), r.getInteger(5),
          r.getInteger(6), r.getBoolean(7), r.getBoolean(8), r.getBoolean(9), r.getBoolean(10), r.getBoolean(11), r.getString(12),
          List.of(r.getArrayOfStrings(13)), r.getString(14), r.getString(15));
    }
  }

  /** {@code tableSql}: the job's source table, quoted; {@code key}: its key columns. */
  public static Future<Verdict> check(SqlClient source, String job, String tableSql, List<String> key) {
    return check(source, job, tableSql, key, List.of(), List.of());
  }

  /**
   * {@link #check}, counting what other jobs of the same config take before this one:
   * {@code newSlots}, the jobs that will create a slot; {@code readers}, those whose reader will hold a
   * WAL sender. Without them, validate told every job of a config that one free slot remained.
   */
  public static Future<Verdict> check(SqlClient source, String job, String tableSql, List<String> key, List<String> newSlots,
      List<String> readers) {
    return source.preparedQuery(SQL).execute(Tuple.of(LogicalSlot.name(job), tableSql))
        .map(rows -> verdict(Facts.of(rows.iterator().next()), job, tableSql, key, newSlots, readers));
  }

  /** The verdict on what the source said: every problem, each with its fix. */
  public static Verdict verdict(Facts f, String job, String table, List<String> key) {
    return verdict(f, job, table, key, List.of(), List.of());
  }

  /** {@link #verdict}, with the slots and WAL senders other jobs of the config take first (see {@link #check}). */
  public static Verdict verdict(Facts f, String job, String table, List<String> key, List<String> newSlots, List<String> readers) {
    String name = LogicalSlot.name(job);
    List<Problem> out = new ArrayList<>();
    String role = f.role();
    if (f.version() < 140000) {
      out.add(new Problem("the source runs PostgreSQL " + f.version() / 10000, "logical capture needs PostgreSQL 14 or later"));
    }
    if (!"logical".equals(f.walLevel())) {
      out.add(new Problem("wal_level is " + f.walLevel(), "set wal_level = logical on the source and restart it"));
    }
    if (!f.mayReplicate()) {
      out.add(new Problem("role " + role + " may not replicate", "ALTER ROLE " + role + " REPLICATION (on Amazon RDS: GRANT "
          + "rds_replication TO " + role + "; on other managed services, their replication role or flag)"));
    }
    if (!f.slotExists() && f.slotsUsed() >= f.maxSlots()) {
      out.add(new Problem("all " + f.maxSlots() + " replication slots are in use", "raise max_replication_slots (restart) "
          + "or drop a slot nobody reads (SELECT slot_name, active FROM pg_replication_slots)"));
    } else if (!f.slotExists() && f.slotsUsed() + newSlots.size() >= f.maxSlots()) {
      out.add(new Problem(free(f.maxSlots() - f.slotsUsed(), f.maxSlots(), "replication slots") + " and this config's "
          + jobs(newSlots) + (f.maxSlots() - f.slotsUsed() == 1 ? " it" : " them"),
          "raise max_replication_slots (restart), drop a slot nobody reads (SELECT slot_name, active FROM pg_replication_slots), "
              + "or set capture.mode to trigger on a job"));
    }
    if (f.sendersUsed() >= f.maxSenders()) {
      out.add(new Problem("all " + f.maxSenders() + " WAL senders are in use", "raise max_wal_senders (restart)"));
    } else if (f.sendersUsed() + readers.size() >= f.maxSenders()) {
      out.add(new Problem(free(f.maxSenders() - f.sendersUsed(), f.maxSenders(), "WAL senders") + " and the readers of this "
          + "config's " + jobs(readers) + (f.maxSenders() - f.sendersUsed() == 1 ? " it" : " them"),
          "raise max_wal_senders (restart), or set capture.mode to trigger on a job"));
    }
    if (f.publication() && !f.publishesTable()) {
      out.add(new Problem("publication " + name + " exists but does not publish " + table,
          "ALTER PUBLICATION " + name + " ADD TABLE " + table + " (or DROP PUBLICATION " + name + ")"));
    } else if (!f.publication() && !(f.createOnDatabase() && f.ownsTable())) {
      String lacks = !f.createOnDatabase() && !f.ownsTable() ? "CREATE on the database and ownership of " + table
          : !f.createOnDatabase() ? "CREATE on the database" : "ownership of " + table + " (owned by " + f.tableOwner() + ")";
      out.add(new Problem("role " + role + " cannot create publication " + name + " (it lacks " + lacks + ")",
          "have the table's owner (with CREATE on the database) or a superuser run CREATE PUBLICATION " + name + " FOR TABLE " + table
              + " WITH (publish_via_partition_root = true)"));
    }
    String ident = f.replicaIdentity();
    List<String> identCols = f.identityColumns();
    if ("n".equals(ident) || identCols.isEmpty() || !identCols.containsAll(key)) {
      String is = switch (ident) {
        case "n" -> "REPLICA IDENTITY NOTHING";
        case "d" -> identCols.isEmpty() ? "no primary key (REPLICA IDENTITY DEFAULT)" : "primary key " + identCols;
        case "i" -> "replica identity index " + identCols;
        default -> "REPLICA IDENTITY " + ident;
      };
      out.add(new Problem("the replica identity of " + table + " (" + is + ") does not cover the key " + key
          + ", so deletes and key changes would not carry the old key (and with none, publishing the table would make its "
          + "UPDATEs and DELETEs fail)", "ALTER TABLE " + table + " REPLICA IDENTITY USING INDEX <a unique index on " + key
          + ">, or REPLICA IDENTITY FULL (larger WAL)"));
    }
    return new Verdict(List.copyOf(out), f.slotExists());
  }

  private static String free(int free, int max, String what) {
    return "only " + free + " of the " + max + " " + what + (free == 1 ? " is" : " are") + " free";
  }

  /** "job a takes" or "jobs a, b take". */
  private static String jobs(List<String> names) {
    return (names.size() == 1 ? "job " : "jobs ") + String.join(", ", names) + (names.size() == 1 ? " takes" : " take");
  }
}
