package dev.sluice.inspect;

import dev.sluice.config.ConfigProblem;
import dev.sluice.config.Sql;
import dev.sluice.config.TableName;
import dev.sluice.db.Await;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What the job's role may do with its two tables, checked before anything is written, each lack named
 * with the statement that grants it: read the source table; write the target table, or create it in
 * its schema ({@code target.create}). Before, {@code validate} said such a config was valid and
 * {@code run} failed with PostgreSQL's bare {@code 42501 permission denied for schema public}, or,
 * for a source the role may not read, {@code validate} blamed the first column's "expression".
 *
 * <p>Column privileges count where PostgreSQL takes them: SELECT, INSERT and UPDATE granted on every
 * mapped column serve as well as on the table; DELETE exists only for the whole table.
 */
final class Privileges {
  /** What Sluice does with each privilege on the target table, for the message. */
  private static final String TARGET_USES = "SELECT to read back and verify what it wrote, INSERT to copy, UPDATE to apply "
      + "captured changes and repairs, DELETE to copy a range again, apply deletes and roll back";

  private Privileges() {}

  /** The role may read the source table (all of it, or at least some columns: the expressions' checks name the rest). */
  static void source(SqlClient db, TableName t, int oid, String path, List<ConfigProblem> problems) {
    Row r = one(db, "SELECT current_user::text, has_table_privilege($1::int::oid, 'SELECT') "
        + "OR has_any_column_privilege($1::int::oid, 'SELECT')", Tuple.of(oid));
    if (r.getBoolean(1)) return;
    String role = r.getString(0);
    problems.add(new ConfigProblem(path + ".source.table", "role " + role + " may not read " + t + " (no SELECT on it): as its owner "
        + "or a superuser, GRANT SELECT ON " + name(t) + " TO " + name(role)));
  }

  /** The role may create the target table in its schema ({@code target.create}, the table not there yet). */
  static void create(SqlClient db, TableName t, String path, List<ConfigProblem> problems) {
    Row r = one(db, "SELECT current_user::text, current_database()::text, has_schema_privilege(to_regnamespace($1), 'USAGE'), "
        + "has_schema_privilege(to_regnamespace($1), 'CREATE')", Tuple.of(Sql.ident(t.schema())));
    List<String> lacks = new ArrayList<>();
    if (!r.getBoolean(2)) lacks.add("USAGE");
    if (!r.getBoolean(3)) lacks.add("CREATE");
    if (lacks.isEmpty()) return;
    String role = r.getString(0);
    String privs = String.join(" and ", lacks);
    problems.add(new ConfigProblem(path + ".target.table", "creating " + t + " (target.create) needs " + privs + " on schema "
        + t.schema() + " in database " + r.getString(1) + ", which role " + role + " lacks: as the schema's owner or a superuser, GRANT "
        + String.join(", ", lacks) + " ON SCHEMA " + name(t.schema()) + " TO " + name(role)
        + "; or create the table yourself and grant SELECT, INSERT, UPDATE, DELETE on it"));
  }

  /** The role may read and write the existing target table, through the columns the job maps. */
  static void target(SqlClient db, TableName t, int oid, Collection<String> columns, String path, List<ConfigProblem> problems) {
    var rows = Await.result(db.preparedQuery(
            "SELECT current_user::text, p, has_table_privilege($1::int::oid, p) OR (p <> 'DELETE' AND coalesce((SELECT "
                + "bool_and(has_column_privilege($1::int::oid, a.attnum, p)) FROM unnest($2::text[]) c JOIN pg_attribute a "
                + "ON a.attrelid = $1::int::oid AND a.attname = c AND NOT a.attisdropped), false)) "
                + "FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p")
        .execute(Tuple.tuple().addInteger(oid).addArrayOfString(columns.toArray(new String[0]))));
    List<String> lacks = new ArrayList<>();
    String role = null;
    for (Row r : rows) {
      role = r.getString(0);
      if (!r.getBoolean(2)) lacks.add(r.getString(1));
    }
    if (lacks.isEmpty()) return;
    problems.add(new ConfigProblem(path + ".target.table", "role " + role + " lacks " + String.join(", ", lacks) + " on " + t
        + ", which Sluice needs (" + TARGET_USES + "): as its owner or a superuser, GRANT " + String.join(", ", lacks) + " ON "
        + name(t) + " TO " + name(role)));
  }

  /** An identifier as a person would type it: bare where PostgreSQL reads it back unchanged, else quoted. */
  static String name(String ident) {
    return ident.matches("[a-z_][a-z0-9_$]*") ? ident : Sql.ident(ident);
  }

  private static String name(TableName t) {
    return name(t.schema()) + "." + name(t.name());
  }

  private static Row one(SqlClient db, String sql, Tuple params) {
    return Await.result(db.preparedQuery(sql).execute(params)).iterator().next();
  }
}
