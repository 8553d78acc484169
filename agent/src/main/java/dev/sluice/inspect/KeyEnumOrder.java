package dev.sluice.inspect;

import dev.sluice.config.ConfigProblem;
import dev.sluice.config.TableName;
import dev.sluice.db.Await;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The check that an enum key column (or a domain over an enum) sorts its labels alike on both sides.
 *
 * <p>An enum sorts by its labels' declared positions, which are the database's own: {@code CREATE
 * TYPE lvl AS ENUM ('a', 'b', 'c')} on the source and {@code ('c', 'a', 'b')} (or a label added with
 * {@code ALTER TYPE .. ADD VALUE .. BEFORE}) on the target put the same keys in other orders. Segments
 * are key ranges planned in the source's order and read back, purged and verified in the target's,
 * so, as with two text collations ({@link KeyCollations}), a range would hold other rows on each
 * side: segments fail verification for rows that are fine, and a retry's purge deletes rows of
 * another segment already counted verified. Such a job is refused before it starts.
 */
final class KeyEnumOrder {
  private KeyEnumOrder() {}

  /** The labels of the enum under type {@code typeOid} (through domains) in its sort order, or null if it is no enum. */
  static List<String> labels(SqlClient db, Integer typeOid) {
    if (typeOid == null) return null;
    var rows = Await.result(db.preparedQuery("WITH RECURSIVE d(oid) AS (SELECT $1::int::oid UNION ALL "
            + "SELECT t.typbasetype FROM pg_type t JOIN d ON t.oid = d.oid WHERE t.typtype = 'd') "
            + "SELECT (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = d.oid) "
            + "FROM d JOIN pg_type t ON t.oid = d.oid WHERE t.typtype = 'e'")
        .execute(Tuple.of(typeOid)));
    if (rows.size() == 0) return null;
    String[] labels = rows.iterator().next().getArrayOfStrings(0);
    return labels == null ? List.of() : Arrays.asList(labels);
  }

  static Integer columnType(SqlClient db, int relOid, String column) {
    var rows = Await.result(db.preparedQuery("SELECT atttypid::int FROM pg_attribute WHERE attrelid = $1::int::oid AND attname = $2")
        .execute(Tuple.of(relOid, column)));
    return rows.size() == 0 ? null : rows.iterator().next().getInteger(0);
  }

  static Integer namedType(SqlClient db, String type) {
    var rows = Await.result(db.preparedQuery("SELECT to_regtype($1)::oid::int").execute(Tuple.of(type)));
    return rows.size() == 0 ? null : rows.iterator().next().getInteger(0);
  }

  /**
   * Adds a problem for each enum key column whose labels the target orders otherwise than the source
   * (the target may have labels of its own; the source's must be there, in the source's order).
   * {@code targetOid} null: the table is to be created with the key columns' types as named.
   */
  static void check(SqlClient source, SqlClient target, int sourceOid, Integer targetOid, TableName targetTable,
      List<String> sourceKey, List<String> targetKey, List<String> keyTypes, String path, List<ConfigProblem> problems) {
    for (int i = 0; i < sourceKey.size(); i++) {
      List<String> want = labels(source, columnType(source, sourceOid, sourceKey.get(i)));
      if (want == null) continue;
      Integer tt = targetOid != null ? columnType(target, targetOid, targetKey.get(i)) : namedType(target, keyTypes.get(i));
      List<String> have = labels(target, tt);
      if (have == null) continue; // not an enum there: the types' own checks speak for it
      List<String> shared = new ArrayList<>(have);
      shared.retainAll(want);
      if (shared.equals(want)) continue;
      problems.add(new ConfigProblem(path + ".target.table", "key column \"" + targetKey.get(i) + "\" of " + targetTable
          + " is an enum whose labels the target sorts as (" + String.join(", ", have) + ") and the source as ("
          + String.join(", ", want) + "): a segment's key range would hold other rows on each side, and a retry's purge could "
          + "delete rows of another segment. Give the target's type the source's labels in the source's order"));
    }
  }
}
