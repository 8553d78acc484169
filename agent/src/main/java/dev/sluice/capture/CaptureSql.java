package dev.sluice.capture;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of change capture for one job, on the source: a changelog table {@code sluice.changes_JOB}
 * (id bigserial, key as text[], time), three AFTER STATEMENT triggers on the source table (insert,
 * update, delete) that record, from the statement's transition tables, the key of every inserted,
 * updated (old and new key) and deleted row and send a NOTIFY, and the applier's queries over the
 * changelog.
 *
 * <p>The trigger function is SECURITY DEFINER with a fixed search_path: the application's roles
 * write to the source table and need no privilege on Sluice's schema.
 *
 * <p>Keys travel as their text forms and are cast back to the key types, as segment bounds are, so a
 * changelog entry can be placed in its segment with {@code width_bucket} over the segments' lower
 * bounds (a binary search done by the server, for any orderable key, composite ones as records).
 * Each cast names the source key column's collation: a value cast from text takes the database's
 * default one, and a key column declared with another would be placed in the wrong segment (a change
 * dropped for a "pending" segment whose snapshot never held the key).
 */
public final class CaptureSql {
  private final JobShape shape;
  private final String job;

  public CaptureSql(JobShape shape) {
    this.shape = shape;
    this.job = shape.job().name();
  }

  /** Names derive from the job name, which the config restricts to [a-z][a-z0-9_]{0,39}. */
  public static String changelog(String job) {
    return "sluice." + Sql.ident("changes_" + job);
  }

  public static String function(String job) {
    return "sluice." + Sql.ident("capture_" + job);
  }

  public static String trigger(String job) {
    return "sluice_capture_" + job;
  }

  public static String channel(String job) {
    return "sluice_changes_" + job;
  }

  public String changelog() {
    return changelog(job);
  }

  public String channel() {
    return channel(job);
  }

  /** Schema, changelog table and trigger function; idempotent. */
  public List<String> installObjects() {
    String cl = changelog();
    return List.of(
        // Not IF NOT EXISTS, which needs CREATE on the database even when a DBA created the schema for us.
        "DO $$ BEGIN IF to_regnamespace('sluice') IS NULL THEN CREATE SCHEMA sluice; END IF; END $$",
        "CREATE TABLE IF NOT EXISTS " + cl + " (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())",
        // One function for the three statement-level triggers: a bulk statement records its keys in
        // one INSERT .. SELECT from its transition tables instead of one insert per row. An UPDATE
        // records old and new keys (the same key once), so a changed key deletes the old one too.
        "CREATE OR REPLACE FUNCTION " + function(job) + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
            + "SET search_path = pg_catalog, pg_temp AS $sluice$\n"
            + "DECLARE n bigint;\n"
            + "BEGIN\n"
            // Row level: a partitioned table's triggers (cloned to every partition), one key a row.
            + "  IF TG_LEVEL = 'ROW' THEN\n"
            + "    IF TG_OP <> 'INSERT' THEN INSERT INTO " + cl + " (key) VALUES (" + keyArray("OLD") + "); END IF;\n"
            + "    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND " + keyArray("NEW") + " IS DISTINCT FROM " + keyArray("OLD") + ") THEN\n"
            + "      INSERT INTO " + cl + " (key) VALUES (" + keyArray("NEW") + ");\n"
            + "    END IF;\n"
            + "    PERFORM pg_notify(" + Sql.literal(channel()) + ", '');\n"
            + "    RETURN NULL;\n"
            + "  END IF;\n"
            + "  IF TG_OP = 'INSERT' THEN\n"
            + "    INSERT INTO " + cl + " (key) SELECT " + keyArray("r") + " FROM sluice_new r;\n"
            + "  ELSIF TG_OP = 'DELETE' THEN\n"
            + "    INSERT INTO " + cl + " (key) SELECT " + keyArray("r") + " FROM sluice_old r;\n"
            + "  ELSE\n"
            + "    INSERT INTO " + cl + " (key) SELECT " + keyArray("r") + " FROM sluice_old r UNION SELECT " + keyArray("r")
            + " FROM sluice_new r;\n"
            + "  END IF;\n"
            + "  GET DIAGNOSTICS n = ROW_COUNT;\n"
            + "  IF n > 0 THEN PERFORM pg_notify(" + Sql.literal(channel()) + ", ''); END IF;\n"
            + "  RETURN NULL;\n"
            + "END $sluice$");
  }

  /** The three triggers: (name suffix, event, transition tables). */
  private static final String[][] TRIGGERS = {
      {"_ins", "INSERT", "REFERENCING NEW TABLE AS sluice_new"},
      {"_upd", "UPDATE", "REFERENCING OLD TABLE AS sluice_old NEW TABLE AS sluice_new"},
      {"_del", "DELETE", "REFERENCING OLD TABLE AS sluice_old"}};

  /**
   * The capture triggers missing on the source table. Returns their names (one per row). On a
   * partitioned table a statement-level one (what earlier builds installed there) counts as
   * missing: it fires only for statements that name the partitioned table, not for writes made
   * straight into a partition.
   */
  public String missingTriggers() {
    String table = Sql.literal(shape.job().source().table().sql()) + "::regclass";
    return "SELECT t FROM unnest(ARRAY[" + Sql.literal(trigger(job) + "_ins") + ", " + Sql.literal(trigger(job) + "_upd") + ", "
        + Sql.literal(trigger(job) + "_del") + "]) t WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = " + table
        + " AND tgname = t AND (tgtype & 1 = 1 OR (SELECT relkind FROM pg_class WHERE oid = " + table + ") <> 'p')"
        // One an earlier build left enabled the ordinary way is replaced when the role may make it ALWAYS.
        + " AND (tgenabled = 'A' OR NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = " + table + "), 'USAGE')))";
  }

  /**
   * One row, true when capture triggers on {@code table} would miss writes made with
   * {@code session_replication_role = replica}: the role does not own the table, so it cannot make
   * them {@code ENABLE ALWAYS} ({@link #createTrigger}). Param: $1 the table.
   */
  public static String replicaBlind() {
    return "SELECT NOT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = $1::regclass";
  }

  /**
   * The DDL of one capture trigger, by name: statement-level with transition tables (one
   * {@code INSERT .. SELECT} a statement), or row-level on a partitioned table, where PostgreSQL clones
   * a row-level trigger to every partition (those attached later too) and a statement-level one fires
   * only for statements naming the partitioned table. Replaces a trigger of that name.
   *
   * <p>The trigger is made {@code ENABLE ALWAYS} when the role may (it owns the table): a trigger
   * enabled the ordinary way does not fire in sessions with {@code session_replication_role =
   * replica}, which is how a logical replication subscription applies its changes (a source table fed
   * by a subscription) and how replication tools (pglogical, Bucardo) and bulk loaders skip triggers:
   * such writes were not captured. A role with only the TRIGGER privilege cannot, and the trigger stays
   * as created; {@code sluice validate} says so ({@link #replicaBlind}).
   */
  public String createTrigger(String name) {
    String table = shape.job().source().table().sql();
    for (String[] t : TRIGGERS) {
      if (name.equals(trigger(job) + t[0])) {
        String create = "CREATE TRIGGER " + Sql.ident(name) + " AFTER " + t[1] + " ON " + table;
        return "DO $sluice$ BEGIN DROP TRIGGER IF EXISTS " + Sql.ident(name) + " ON " + table + "; "
            + "IF (SELECT relkind FROM pg_class WHERE oid = " + Sql.literal(table) + "::regclass) = 'p' THEN "
            + create + " FOR EACH ROW EXECUTE FUNCTION " + function(job) + "(); "
            + "ELSE " + create + " " + t[2] + " FOR EACH STATEMENT EXECUTE FUNCTION " + function(job) + "(); END IF; "
            + "BEGIN ALTER TABLE " + table + " ENABLE ALWAYS TRIGGER " + Sql.ident(name) + "; "
            + "EXCEPTION WHEN insufficient_privilege THEN NULL; END; END $sluice$";
      }
    }
    throw new IllegalArgumentException("not a capture trigger: " + name);
  }

  /**
   * Removes triggers, function and changelog; idempotent. The triggers go with the function they call
   * ({@code DROP FUNCTION .. CASCADE}): PostgreSQL checks ownership of the function only, which Sluice's
   * role created, so a role that does not own the source table (the documented grants: SELECT and
   * TRIGGER) removes them too, where {@code DROP TRIGGER} needs the table's owner. Nothing else can
   * depend on the job's own function. The schema goes too when nothing else is in it.
   */
  public static List<String> remove(String job) {
    return List.of("DROP FUNCTION IF EXISTS " + function(job) + "() CASCADE", "DROP TABLE IF EXISTS " + changelog(job));
  }

  private String keyArray(String rec) {
    return "ARRAY[" + shape.sourceKey().stream().map(k -> rec + "." + Sql.ident(k) + "::text").collect(Collectors.joining(", ")) + "]";
  }

  /** The changelog key cast back to its types, as a record: {@code ROW(c.key[1]::bigint, ..)}. */
  String keyRecord(String alias) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) parts.add(alias + ".key[" + (i + 1) + "]::" + shape.keyTypes().get(i) + shape.sourceKeyCollate(i));
    return "ROW(" + String.join(", ", parts) + ")";
  }

  /**
   * Reads the next entries after an id, each with its segment's position in key order (0 = first
   * segment). Params: $1 after id, $2 limit, then one text[] per key column holding the lower bounds
   * of segments 2..N (in order). Returns (id, key text[], position).
   */
  public String readBatch() {
    return bounds(3) + "SELECT c.id, c.key, coalesce(width_bucket(" + keyRecord("c") + ", (SELECT v FROM th)), 0) FROM " + changelog()
        + " c WHERE c.id > $1 ORDER BY c.id LIMIT $2";
  }

  /**
   * Places keys that are not in the changelog (handed over by the WAL reader) in their segments, as
   * {@link #readBatch} places entries. Params: $1 text[] of key array literals, then one text[] per
   * key column holding the lower bounds of segments 2..N. Returns (0, key text[], position).
   */
  public String placeKeys() {
    return bounds(2) + "SELECT 0::bigint, c.key, coalesce(width_bucket(" + keyRecord("c") + ", (SELECT v FROM th)), 0) "
        + "FROM (SELECT u.k::text[] AS key FROM unnest($1::text[]) AS u(k)) c";
  }

  /**
   * {@code WITH th}: the segments' lower bounds as one array of typed key records, in key order, for
   * {@code width_bucket}; from one text[] per key column, the first at parameter {@code $first}.
   */
  private String bounds(int first) {
    List<String> cols = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) {
      cols.add("b" + i + "::" + shape.keyTypes().get(i) + shape.sourceKeyCollate(i));
      arrays.add("$" + (i + first) + "::text[]");
      names.add("b" + i);
    }
    return "WITH th AS (SELECT array_agg(ROW(" + String.join(", ", cols) + ") ORDER BY o) AS v FROM unnest("
        + String.join(", ", arrays) + ") WITH ORDINALITY AS x(" + String.join(", ", names) + ", o)) ";
  }

  /** Records keys in the changelog with their change's time. Params: $1 text[] of key array literals, $2 text[] of timestamps. */
  public String insertEntries() {
    return "INSERT INTO " + changelog() + " (key, at) SELECT u.k::text[], u.t::timestamptz FROM unnest($1::text[], $2::text[]) AS u(k, t)";
  }

  /** Deletes applied (or superseded) entries. Params: $1 bigint[] of ids. */
  public String deleteEntries() {
    return "DELETE FROM " + changelog() + " WHERE id = ANY($1::bigint[])";
  }

  /**
   * Backlog: entries (counted up to a cap) and the age of the oldest in ms. Params: $1 cap. The
   * oldest is the entry of the lowest id, one look into the key index: entries are recorded in the
   * order of their times (the trigger's {@code clock_timestamp()} as ids are drawn, the WAL reader's
   * commit times in commit order), so it is the one of the earliest time within the microseconds
   * two sessions' inserts can interleave; {@code min(at)} read the whole changelog again at every
   * measure, as much as the count.
   */
  public String backlog() {
    return "SELECT (SELECT count(*) FROM (SELECT 1 FROM " + changelog() + " LIMIT $1) c), "
        + "(SELECT (extract(epoch FROM clock_timestamp() - at) * 1000)::bigint FROM " + changelog() + " ORDER BY id LIMIT 1)";
  }

  /** Keys with entries still waiting in a key range. Params: the range's bounds. */
  public KeyRange.Predicate pendingInRange(KeyRange r) {
    List<String> exprs = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) exprs.add("c.key[" + (i + 1) + "]::" + shape.keyTypes().get(i) + shape.sourceKeyCollate(i));
    KeyRange.Predicate p = r.predicateOn(exprs, shape.keyTypes(), 1);
    return new KeyRange.Predicate("SELECT DISTINCT c.key FROM " + changelog() + " c WHERE " + p.sql(), p.params());
  }
}
