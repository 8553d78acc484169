package dev.sluice.capture;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of change capture for one job, on the source: a changelog table {@code sluice.changes_JOB}
 * (id bigserial, key as text[], time), an AFTER ROW trigger on the source table that records the key
 * of every inserted, updated (old and new key) and deleted row and sends a NOTIFY, and the applier's
 * queries over the changelog.
 *
 * <p>The trigger function is SECURITY DEFINER with a fixed search_path: the application's roles
 * write to the source table and need no privilege on Sluice's schema.
 *
 * <p>Keys travel as their text forms and are cast back to the key types, as segment bounds are, so a
 * changelog entry can be placed in its segment with {@code width_bucket} over the segments' lower
 * bounds (a binary search done by the server, for any orderable key, composite ones as records).
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
    String oldKey = keyArray("OLD");
    String newKey = keyArray("NEW");
    String keyChanged = keyRow("NEW") + " IS DISTINCT FROM " + keyRow("OLD");
    return List.of(
        "CREATE SCHEMA IF NOT EXISTS sluice",
        "CREATE TABLE IF NOT EXISTS " + changelog() + " (id bigserial PRIMARY KEY, key text[] NOT NULL, "
            + "at timestamptz NOT NULL DEFAULT clock_timestamp())",
        "CREATE OR REPLACE FUNCTION " + function(job) + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
            + "SET search_path = pg_catalog, pg_temp AS $sluice$\n"
            + "BEGIN\n"
            + "  IF TG_OP <> 'INSERT' THEN\n"
            + "    INSERT INTO " + changelog() + " (key) VALUES (" + oldKey + ");\n"
            + "  END IF;\n"
            + "  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND " + keyChanged + ") THEN\n"
            + "    INSERT INTO " + changelog() + " (key) VALUES (" + newKey + ");\n"
            + "  END IF;\n"
            + "  PERFORM pg_notify(" + Sql.literal(channel()) + ", '');\n"
            + "  RETURN NULL;\n"
            + "END $sluice$");
  }

  /** True when the trigger exists on the source table. Params: none. */
  public String triggerExists() {
    return "SELECT count(*) FROM pg_trigger WHERE tgrelid = " + Sql.literal(shape.job().source().table().sql()) + "::regclass "
        + "AND tgname = " + Sql.literal(trigger(job));
  }

  public String createTrigger() {
    return "CREATE TRIGGER " + Sql.ident(trigger(job)) + " AFTER INSERT OR UPDATE OR DELETE ON " + shape.job().source().table().sql()
        + " FOR EACH ROW EXECUTE FUNCTION " + function(job) + "()";
  }

  /** Removes trigger, function and changelog; idempotent. The schema goes too when nothing else is in it. */
  public static List<String> remove(String job, String sourceTableSql) {
    return List.of(
        "DROP TRIGGER IF EXISTS " + Sql.ident(trigger(job)) + " ON " + sourceTableSql,
        "DROP FUNCTION IF EXISTS " + function(job) + "()",
        "DROP TABLE IF EXISTS " + changelog(job));
  }

  private String keyArray(String rec) {
    return "ARRAY[" + shape.sourceKey().stream().map(k -> rec + "." + Sql.ident(k) + "::text").collect(Collectors.joining(", ")) + "]";
  }

  private String keyRow(String rec) {
    return "ROW(" + shape.sourceKey().stream().map(k -> rec + "." + Sql.ident(k)).collect(Collectors.joining(", ")) + ")";
  }

  /** The changelog key cast back to its types, as a record: {@code ROW(c.key[1]::bigint, ..)}. */
  String keyRecord(String alias) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) parts.add(alias + ".key[" + (i + 1) + "]::" + shape.keyTypes().get(i));
    return "ROW(" + String.join(", ", parts) + ")";
  }

  /**
   * Reads the next entries after an id, each with its segment's position in key order (0 = first
   * segment). Params: $1 after id, $2 limit, then one text[] per key column holding the lower bounds
   * of segments 2..N (in order). Returns (id, key text[], position).
   */
  public String readBatch() {
    int k = shape.keyTypes().size();
    List<String> cols = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      cols.add("b" + i + "::" + shape.keyTypes().get(i));
      arrays.add("$" + (i + 3) + "::text[]");
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < k; i++) names.add("b" + i);
    return "WITH th AS (SELECT array_agg(ROW(" + String.join(", ", cols) + ") ORDER BY o) AS v FROM unnest("
        + String.join(", ", arrays) + ") WITH ORDINALITY AS x(" + String.join(", ", names) + ", o)) "
        + "SELECT c.id, c.key, coalesce(width_bucket(" + keyRecord("c") + ", (SELECT v FROM th)), 0) FROM " + changelog()
        + " c WHERE c.id > $1 ORDER BY c.id LIMIT $2";
  }

  /** Deletes applied (or superseded) entries. Params: $1 bigint[] of ids. */
  public String deleteEntries() {
    return "DELETE FROM " + changelog() + " WHERE id = ANY($1::bigint[])";
  }

  /** Backlog: entries (counted up to a cap) and the age of the oldest in ms. Params: $1 cap. */
  public String backlog() {
    return "SELECT (SELECT count(*) FROM (SELECT 1 FROM " + changelog() + " LIMIT $1) c), "
        + "(SELECT (extract(epoch FROM clock_timestamp() - min(at)) * 1000)::bigint FROM " + changelog() + ")";
  }

  /** Keys with entries still waiting in a key range. Params: the range's bounds. */
  public KeyRange.Predicate pendingInRange(KeyRange r) {
    List<String> exprs = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) exprs.add("c.key[" + (i + 1) + "]::" + shape.keyTypes().get(i));
    KeyRange.Predicate p = r.predicateOn(exprs, shape.keyTypes(), 1);
    return new KeyRange.Predicate("SELECT DISTINCT c.key FROM " + changelog() + " c WHERE " + p.sql(), p.params());
  }
}
