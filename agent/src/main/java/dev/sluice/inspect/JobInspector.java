package dev.sluice.inspect;

import dev.sluice.config.ConfigProblem;
import dev.sluice.config.JobConfig;
import dev.sluice.config.Sql;
import dev.sluice.config.TableName;
import dev.sluice.db.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Read-only checks of one job against the source and target catalogs (gh-ost's "inspector"): the
 * tables exist, the key is unique and not null, every column expression is valid and castable to its
 * target type, the target can take idempotent upserts. Resolves the job into a {@link JobShape}.
 *
 * <p>Runs on a thread that may block (CLI or worker), over connections opened read-only, so a
 * validation never writes anything anywhere.
 */
public final class JobInspector {
  private final SqlClient source;
  private final SqlClient target;

  public JobInspector(SqlClient source, SqlClient target) {
    this.source = source;
    this.target = target;
  }

  private record Col(String name, String type, boolean notNull, boolean generated, boolean hasDefault) {}

  /** Inspects a job; problems are added to {@code problems} with {@code path} as prefix; null if unusable. */
  public JobShape inspect(JobConfig job, String path, List<ConfigProblem> problems) {
    int before = problems.size();
    TableName st = job.source().table();
    Integer srcOid = tableOid(source, st);
    if (srcOid == null) {
      problems.add(new ConfigProblem(path + ".source.table", "table " + st + " does not exist in the source database"));
      return null;
    }
    String children = inheritanceChildren(source, srcOid);
    if (children != null) {
      problems.add(new ConfigProblem(path + ".source.table", st + " has inheritance children (" + children + "): a query on it reads "
          + "their rows too, but its key is not unique across them and their writes are not captured; migrate each table as a job "
          + "of its own (declarative partitioning is supported)"));
      return null;
    }
    if (rowSecurityApplies(source, srcOid)) {
      problems.add(new ConfigProblem(path + ".source.table", rowSecurity(st, source) + " it sees only the rows its policies let "
          + "it see, and Sluice would copy and verify only those"));
      return null;
    }
    Privileges.source(source, st, srcOid, path, problems);
    if (problems.size() > before) return null;
    Map<String, Col> srcCols = columns(source, srcOid);

    // Key: exists, not null, unique.
    List<String> key = new ArrayList<>();
    List<String> keyTypes = new ArrayList<>();
    for (String k : job.source().key()) {
      Col c = findColumn(srcCols, k);
      if (c == null) {
        problems.add(new ConfigProblem(path + ".source.key", "column \"" + k + "\" does not exist in " + st));
      } else {
        key.add(c.name());
        keyTypes.add(c.type());
        if (!c.notNull()) {
          problems.add(new ConfigProblem(path + ".source.key", "column \"" + c.name() + "\" of " + st + " allows NULL; key columns must be NOT NULL"));
        }
      }
    }
    if (problems.size() > before) return null;
    if (!hasUniqueIndexWithin(source, srcOid, new HashSet<>(key), false)) {
      problems.add(new ConfigProblem(path + ".source.key", "key (" + String.join(", ", key) + ") is not unique in " + st
          + ": no primary key or unique index on these columns"));
      return null;
    }

    // Row filter.
    if (job.source().where() != null) {
      String err = sqlError(source, "SELECT 1 FROM " + st.sql() + " WHERE (" + job.source().where() + ") LIMIT 0");
      if (err != null) problems.add(new ConfigProblem(path + ".source.where", "is not a valid condition on " + st + ": " + err));
    }

    // Target table.
    TableName tt = job.target().table();
    Integer tgtOid = tableOid(target, tt);
    Map<String, Col> tgtCols = tgtOid == null ? Map.of() : columns(target, tgtOid);
    if (tgtOid == null && !job.target().create()) {
      problems.add(new ConfigProblem(path + ".target.table", "table " + tt + " does not exist in the target database"
          + " (set target.create to true to let Sluice create it)"));
      return null;
    }
    String tgtChildren = tgtOid == null ? null : inheritanceChildren(target, tgtOid);
    if (tgtChildren != null) {
      problems.add(new ConfigProblem(path + ".target.table", tt + " has inheritance children (" + tgtChildren + "): Sluice's "
          + "read-backs and a retry's purge of a key range on it would reach their rows too; write into a table without children"));
      return null;
    }
    if (tgtOid != null && rowSecurityApplies(target, tgtOid)) {
      problems.add(new ConfigProblem(path + ".target.table", rowSecurity(tt, target) + " its policies decide which rows Sluice "
          + "may write and read back"));
      return null;
    }
    if (tgtOid == null && text(target, "SELECT to_regnamespace($1)::text", Sql.ident(tt.schema())) == null) {
      problems.add(new ConfigProblem(path + ".target.table", "schema " + tt.schema() + " does not exist in the target "
          + "database: create it first (target.create creates the table, not its schema)"));
      return null;
    }
    if (tgtOid == null) Privileges.create(target, tt, path, problems);
    if (problems.size() > before) return null;

    // Columns: target name -> source expression -> target type.
    Map<String, String> mapping = job.columns();
    if (mapping == null) {
      mapping = new LinkedHashMap<>();
      for (Col c : srcCols.values()) if (!c.generated()) mapping.put(c.name(), Sql.ident(c.name()));
    }
    if (tgtOid != null) Privileges.target(target, tt, tgtOid, mapping.keySet(), path, problems);
    List<JobShape.Column> cols = new ArrayList<>();
    Map<String, String> targetKeyBySource = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : mapping.entrySet()) {
      String name = e.getKey();
      String expr = e.getValue().trim();
      String colPath = path + ".columns." + name;
      Col plain = plainColumn(srcCols, expr);
      String type;
      if (tgtOid != null) {
        Col tc = tgtCols.get(name);
        if (tc == null) {
          problems.add(new ConfigProblem(job.columns() == null ? path + ".target.table" : colPath,
              "column \"" + name + "\" does not exist in target table " + tt));
          continue;
        }
        if (tc.generated()) {
          problems.add(new ConfigProblem(colPath, "column \"" + name + "\" of " + tt + " is generated and cannot be written"));
          continue;
        }
        type = tc.type();
      } else if (plain != null) {
        type = plain.type();
      } else {
        type = expressionType(st, expr, colPath, problems);
        if (type == null) continue;
      }
      if (tgtOid == null && text(target, "SELECT to_regtype($1)::text", type) == null) {
        problems.add(new ConfigProblem(colPath, "type " + type + " does not exist in the target database, so target.create cannot "
            + "create column \"" + name + "\" with it: create the type there first (as on the source), or cast the column to a built-in type"));
        continue;
      }
      String err = sqlError(source, "SELECT (" + expr + ")::" + type + " FROM " + st.sql() + " LIMIT 0");
      if (err != null) {
        problems.add(new ConfigProblem(colPath, "expression \"" + expr + "\" is not valid on " + st + " as " + type + ": " + err));
        continue;
      }
      boolean isKey = plain != null && key.contains(plain.name());
      if (isKey) targetKeyBySource.put(plain.name(), name);
      String sourceExpr = plain != null ? Sql.ident(plain.name()) : expr;
      if (plain != null && tgtOid != null && narrows(plain.type(), type)) {
        String checked = checkedCast(plain, name, type);
        if (sqlError(source, "SELECT (" + checked + ")::" + type + " FROM " + st.sql() + " LIMIT 0") == null) sourceExpr = checked;
      }
      cols.add(new JobShape.Column(name, sourceExpr, type, isKey));
    }
    if (problems.size() > before) return null;

    List<String> targetKey = new ArrayList<>();
    for (String k : key) {
      String t = targetKeyBySource.get(k);
      if (t == null) {
        problems.add(new ConfigProblem(path + ".columns", "key column \"" + k + "\" must be mapped to a target column as itself (e.g. \""
            + k + "\": \"" + k + "\")"));
      } else {
        targetKey.add(t);
      }
    }
    if (problems.size() > before) return null;

    if (tgtOid != null) {
      Set<String> mapped = new HashSet<>(mapping.keySet());
      for (Col c : tgtCols.values()) {
        if (c.notNull() && !c.hasDefault() && !c.generated() && !mapped.contains(c.name())) {
          problems.add(new ConfigProblem(path + ".columns", "target column \"" + c.name() + "\" of " + tt
              + " is NOT NULL without a default and is not mapped"));
        }
      }
      if (!hasUniqueIndexWithin(target, tgtOid, new HashSet<>(targetKey), true)) {
        problems.add(new ConfigProblem(path + ".target.table", tt + " has no primary key or unique index on exactly ("
            + String.join(", ", targetKey) + "), which idempotent upserts need (a DEFERRABLE constraint cannot serve them)"));
      }
    }
    if (problems.size() > before) return null;
    List<List<String>> collations = KeyCollations.resolve(source, target, srcOid, tgtOid, tt, key, targetKey, keyTypes, path, problems);
    KeyEnumOrder.check(source, target, srcOid, tgtOid, tt, key, targetKey, keyTypes, path, problems);
    if (problems.size() > before) return null;
    double estimate = estimateRows(st, job.source().where());
    return new JobShape(job, List.copyOf(cols), List.copyOf(key), List.copyOf(targetKey), List.copyOf(keyTypes), tgtOid != null, estimate,
        recordHash(), collations.get(0), collations.get(1));
  }

  /** PostgreSQL 14 added {@code hash_record_extended}; the typed row hash needs it on both sides (see {@link RowHash}). */
  static final int RECORD_HASH_SINCE = 140000;
  private Boolean recordHash;

  private boolean recordHash() {
    if (recordHash == null) recordHash = versionNum(source) >= RECORD_HASH_SINCE && versionNum(target) >= RECORD_HASH_SINCE;
    return recordHash;
  }

  private static int versionNum(SqlClient db) {
    return Await.result(db.query("SELECT current_setting('server_version_num')::int").execute()).iterator().next().getInteger(0);
  }

  static Integer tableOid(SqlClient db, TableName t) {
    var rows = Await.result(db.preparedQuery(
            "SELECT c.oid::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')")
        .execute(Tuple.of(t.schema(), t.name())));
    return rows.size() == 0 ? null : rows.iterator().next().getInteger(0);
  }

  /** Casts of one kind that keep every value (no check needed, nor its cost on the copy's path). */
  private static final Set<String> WIDENS = Set.of("smallint -> integer", "smallint -> bigint", "integer -> bigint",
      "smallint -> double precision", "integer -> double precision", "real -> double precision", "smallint -> numeric",
      "integer -> numeric", "bigint -> numeric", "date -> timestamp without time zone", "date -> timestamp with time zone",
      "timestamp without time zone -> timestamp with time zone", "timestamp with time zone -> timestamp without time zone");

  /**
   * A source column of one type and a target column of another type of the same kind (strings,
   * numbers, dates and times, bit strings) whose explicit cast may lose information silently: text to
   * {@code varchar(3)} truncates, {@code numeric} to {@code numeric(12,2)} or {@code float8} to
   * {@code real} rounds, {@code timestamptz} to {@code date} drops the time. The copy hashes the cast
   * value on both sides, so verification cannot see it.
   */
  private boolean narrows(String sourceType, String targetType) {
    if (sourceType.equals(targetType) || WIDENS.contains(sourceType + " -> " + targetType)) return false;
    if (List.of("text", "character varying", "numeric").contains(targetType)) return false; // unbounded: holds any value of its kind's text
    String sql = "SELECT typcategory::text FROM pg_type WHERE oid = to_regtype($1)";
    String sc = text(source, sql, sourceType);
    String tc = text(target, sql, targetType);
    return sc != null && sc.equals(tc) && "SNDV".contains(sc) && sc.length() == 1;
  }

  /**
   * The column, unless its value changes when cast to the target type and back: then a class 22 error
   * (a text that is no integer) naming the column, which parks its segment with the row and pauses the
   * job as any value the target cannot hold does (data drift). A lossy cast the user wants is written
   * as an expression (e.g. {@code "note": "left(note, 3)"}), which is not checked.
   */
  private static String checkedCast(Col c, String target, String targetType) {
    String col = Sql.ident(c.name());
    String why = Sql.literal("column " + target + ": a value of type " + c.type() + " changes when cast to " + targetType + ": ");
    return "CASE WHEN " + col + " IS NULL OR (" + col + ")::" + targetType + "::" + c.type() + " = " + col + " THEN " + col
        + " ELSE (" + why + " || left(" + col + "::text, 60))::int::text::" + c.type() + " END";
  }

  /** The inheritance children of a plain table (a query on it reads theirs too), or null when it has none or is partitioned. */
  private static String inheritanceChildren(SqlClient db, int oid) {
    return text(db, "SELECT string_agg(i.inhrelid::regclass::text, ', ' ORDER BY i.inhrelid) FROM pg_inherits i "
        + "JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhparent = $1::int::oid AND p.relkind = 'r'", oid);
  }

  /** True when row-level security filters what the session's role sees of the table (not its owner, no BYPASSRLS). */
  private static boolean rowSecurityApplies(SqlClient db, int oid) {
    return Boolean.parseBoolean(text(db, "SELECT row_security_active($1::int::oid)::text", oid));
  }

  private static String rowSecurity(TableName t, SqlClient db) {
    String role = text(db, "SELECT current_user::text", null);
    return "row-level security on " + t + " applies to role " + role + ": give the role BYPASSRLS (ALTER ROLE " + role
        + " BYPASSRLS) or make it the table's owner (without FORCE ROW LEVEL SECURITY);";
  }

  private static String text(SqlClient db, String sql, Object param) {
    return Await.result(db.preparedQuery(sql).execute(param == null ? Tuple.tuple() : Tuple.of(param))).iterator().next().getString(0);
  }

  private static Map<String, Col> columns(SqlClient db, int oid) {
    var rows = Await.result(db.preparedQuery(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated <> '', a.atthasdef "
                + "FROM pg_attribute a WHERE a.attrelid = $1::int::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")
        .execute(Tuple.of(oid)));
    Map<String, Col> out = new LinkedHashMap<>();
    for (Row r : rows) {
      out.put(r.getString(0), new Col(r.getString(0), r.getString(1), r.getBoolean(2), r.getBoolean(3), r.getBoolean(4)));
    }
    return out;
  }

  /** Finds a column as PostgreSQL would resolve an identifier: exact, else folded to lower case. */
  private static Col findColumn(Map<String, Col> cols, String name) {
    Col c = cols.get(name);
    return c != null ? c : cols.get(name.toLowerCase());
  }

  /** The source column an expression names, when it is a bare (possibly quoted) column reference. */
  private static Col plainColumn(Map<String, Col> cols, String expr) {
    if (expr.length() > 2 && expr.startsWith("\"") && expr.endsWith("\"") && expr.indexOf('"', 1) == expr.length() - 1) {
      return cols.get(expr.substring(1, expr.length() - 1));
    }
    if (expr.matches("[A-Za-z_][A-Za-z0-9_$]*")) return cols.get(expr.toLowerCase());
    return null;
  }

  /**
   * True when a valid, non-partial unique index exists whose columns are within {@code key} (or, with
   * {@code exact}, are exactly {@code key}, as {@code ON CONFLICT (key)} requires).
   */
  private static boolean hasUniqueIndexWithin(SqlClient db, int oid, Set<String> key, boolean exact) {
    var rows = Await.result(db.preparedQuery(
            "SELECT array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) k JOIN pg_attribute a "
                + "ON a.attrelid = i.indrelid AND a.attnum = k) FROM pg_index i "
                + "WHERE i.indrelid = $1::int::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL"
                // ON CONFLICT cannot take a deferrable constraint's index as its arbiter.
                + (exact ? " AND i.indimmediate" : ""))
        .execute(Tuple.of(oid)));
    for (Row r : rows) {
      Set<String> cols = new HashSet<>(List.of(r.getArrayOfStrings(0)));
      if (exact ? cols.equals(key) : key.containsAll(cols)) return true;
    }
    return false;
  }

  private String expressionType(TableName st, String expr, String path, List<ConfigProblem> problems) {
    String sql = "SELECT pg_typeof(" + expr + ")::text FROM (SELECT 1) AS sluice_probe(sluice_probe) "
        + "LEFT JOIN (SELECT * FROM " + st.sql() + " LIMIT 0) AS s ON true";
    try {
      var rows = Await.result(source.preparedQuery(sql).execute());
      return rows.iterator().next().getString(0);
    } catch (PgException e) {
      problems.add(new ConfigProblem(path, "expression \"" + expr + "\" is not valid on " + st + ": " + e.getErrorMessage()));
      return null;
    }
  }

  private static String sqlError(SqlClient db, String sql) {
    try {
      Await.result(db.preparedQuery(sql).execute());
      return null;
    } catch (PgException e) {
      return e.getErrorMessage();
    }
  }

  private double estimateRows(TableName st, String where) {
    String sql = "EXPLAIN (FORMAT JSON) SELECT 1 FROM " + st.sql() + (where == null ? "" : " WHERE (" + where + ")");
    try {
      Object plan = Await.result(source.preparedQuery(sql).execute()).iterator().next().getValue(0);
      JsonArray arr = plan instanceof JsonArray a ? a : new JsonArray(plan.toString());
      JsonObject top = arr.getJsonObject(0).getJsonObject("Plan");
      return top.getDouble("Plan Rows", 0.0);
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
