package dev.sluice.inspect;

import dev.sluice.config.ConfigProblem;
import dev.sluice.config.Sql;
import dev.sluice.config.TableName;
import dev.sluice.db.Await;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The collations a job's text-like key columns sort by, on each side, and the check that both sides
 * put keys in the same order.
 *
 * <p>Segments are key ranges planned in the source column's order. The same range is read back,
 * purged and verified on the target in the target column's order, and the changelog places keys in
 * segments with comparisons of its own. When two of these orders differ (a target database created
 * with another locale, a column declared {@code COLLATE "C"} on one side only) a range holds other
 * rows on each side: verification fails for rows that are fine, and a retry's purge deletes rows of
 * another, already verified segment. So every comparison Sluice writes names the column's collation
 * explicitly, and a job whose target column orders differently is refused before it starts.
 *
 * <p>"Orders the same" is decided by sorting a fixed set of probe strings under each side's collation
 * (case, accents, punctuation, spaces, digits, scripts): collation names differ between servers and
 * providers (libc's {@code en_US.utf8}, ICU's {@code en-x-icu}, {@code "default"} meaning whatever
 * the database was created with) while the order is what matters. It is a strong heuristic, not a
 * proof: two locales that agree on every probe and differ elsewhere pass.
 */
public final class KeyCollations {
  private KeyCollations() {}

  /** Strings on which common collations disagree; ASCII first, the rest only for UTF-8 databases. */
  static final List<String> ASCII_PROBES = List.of(
      "", " ", "a", "A", "b", "B", "z", "Z", "aa", "aB", "Ab", "ab", "a b", "a-b", "a_b", "ab-", "-ab", "_ab", "a.b", "a1", "a10",
      "a2", "1", "10", "2", "~", "!", "#", "0", "9", "a z", "az", "Az", "ZZ", "zz", "[", "{", "^", "'", "\"", "@");
  static final List<String> UTF8_PROBES = List.of("ä", "Ä", "á", "é", "e", "f", "ß", "ss", "st", "ü", "u", "v", "ø", "o", "p", "å",
      "æ", "ł", "m", "日本", "中", "🙂", "Ω", "ω", "ǆ", "ĳ", "ij");

  /** A key column's collation as SQL ({@code "pg_catalog"."C"}), null when its type is not collatable. */
  static String columnCollation(SqlClient db, int relOid, String column) {
    var rows = Await.result(db.preparedQuery(
            "SELECT CASE WHEN a.attcollation = 0 THEN NULL ELSE quote_ident(n.nspname) || '.' || quote_ident(c.collname) END "
                + "FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation LEFT JOIN pg_namespace n ON n.oid = c.collnamespace "
                + "WHERE a.attrelid = $1::int::oid AND a.attname = $2")
        .execute(Tuple.of(relOid, column)));
    return rows.size() == 0 ? null : rows.iterator().next().getString(0);
  }

  static boolean utf8(SqlClient db) {
    return "UTF8".equals(Await.result(db.query("SELECT getdatabaseencoding()").execute()).iterator().next().getString(0));
  }

  static List<String> probes(boolean utf8) {
    List<String> out = new ArrayList<>(ASCII_PROBES);
    if (utf8) out.addAll(UTF8_PROBES);
    return out;
  }

  /** The probe strings' positions in the order {@code collation} sorts them on {@code db} (ties broken by position). */
  static String order(SqlClient db, String collation, List<String> probes) {
    var rows = Await.result(db.preparedQuery("SELECT string_agg(p.o::text, ',' ORDER BY p.v COLLATE " + collation
            + ", p.o) FROM unnest($1::text[]) WITH ORDINALITY AS p(v, o)")
        .execute(Tuple.of(probes.toArray(new String[0]))));
    return rows.iterator().next().getString(0);
  }

  /**
   * Collations on the target to give a key column of a table Sluice creates, best first: the source
   * column's own (when it is not the database default), the target's default, then the target's
   * collations for the locale the source database was created with.
   */
  static List<String> createCandidates(SqlClient source, SqlClient target, String sourceCollation) {
    Set<String> out = new LinkedHashSet<>();
    if (!sourceCollation.equals("pg_catalog.\"default\"")) {
      var same = Await.result(target.query("SELECT to_regcollation(" + Sql.literal(sourceCollation) + ") IS NOT NULL").execute());
      if (same.iterator().next().getBoolean(0)) out.add(sourceCollation);
    }
    out.add("pg_catalog.\"default\"");
    String locale = Await.result(source.query("SELECT datcollate FROM pg_database WHERE datname = current_database()").execute())
        .iterator().next().getString(0);
    var rows = Await.result(target.preparedQuery(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace "
                + "WHERE c.collencoding IN (-1, pg_char_to_encoding(getdatabaseencoding())) "
                + "AND (c.collname = $1 OR c.collcollate = $1 OR lower(replace(c.collname, '-', '')) = lower(replace($1, '-', ''))) "
                + "ORDER BY c.collname = $1 DESC, c.collname")
        .execute(Tuple.of(locale)));
    for (Row r : rows) out.add(r.getString(0));
    return List.copyOf(out);
  }

  /**
   * Resolves and checks the key columns' collations of one job. {@code targetOid} null: the target
   * table is to be created, and each collatable key column gets a target collation that orders as the
   * source's. Returns {@code [source collations, target collations]}, null entries for types without
   * one (and for a key column whose check added a problem).
   */
  static List<List<String>> resolve(SqlClient source, SqlClient target, int sourceOid, Integer targetOid, TableName targetTable,
      List<String> sourceKey, List<String> targetKey, List<String> keyTypes, String path, List<ConfigProblem> problems) {
    List<String> src = new ArrayList<>();
    List<String> tgt = new ArrayList<>();
    List<String> probes = null;
    for (int i = 0; i < sourceKey.size(); i++) {
      String sc = columnCollation(source, sourceOid, sourceKey.get(i));
      src.add(sc);
      if (sc == null) {
        tgt.add(null);
        continue;
      }
      if (probes == null) probes = probes(utf8(source) && utf8(target));
      String want = order(source, sc, probes);
      if (targetOid != null) {
        String tc = columnCollation(target, targetOid, targetKey.get(i));
        if (tc == null) tc = "pg_catalog.\"default\"";
        tgt.add(tc);
        if (!want.equals(order(target, tc, probes))) {
          problems.add(new ConfigProblem(path + ".target.table", "key column \"" + targetKey.get(i) + "\" of " + targetTable
              + " orders text differently on the target (collation " + tc + ") than on the source (collation " + sc + "): a segment's key "
              + "range would hold other rows on each side, and a retry's purge could delete rows of another segment. Give the target column "
              + "the source's order (ALTER TABLE " + targetTable.sql() + " ALTER COLUMN " + Sql.ident(targetKey.get(i))
              + " TYPE " + keyTypes.get(i) + " COLLATE <a collation that sorts as " + sc + " does on the source>), or let Sluice create the table"));
        }
        continue;
      }
      String chosen = null;
      for (String c : createCandidates(source, target, sc)) {
        if (want.equals(order(target, c, probes))) {
          chosen = c;
          break;
        }
      }
      if (chosen == null) {
        problems.add(new ConfigProblem(path + ".target.table", "no collation on the target orders text as the source's key column \""
            + sourceKey.get(i) + "\" does (collation " + sc + "): create " + targetTable + " yourself with a key column whose collation "
            + "sorts the same way, so that key ranges hold the same rows on both sides"));
      }
      tgt.add(chosen);
    }
    return List.of(Collections.unmodifiableList(src), Collections.unmodifiableList(tgt));
  }
}
