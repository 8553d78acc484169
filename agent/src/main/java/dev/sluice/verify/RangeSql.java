package dev.sluice.verify;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import java.util.List;
import java.util.stream.Collectors;

/**
 * SQL over a key range used by bisection and reconciliation: rows as (key text.., row hash) on either
 * side, both typed as in the target so the two sides print the same text, and the median key.
 */
final class RangeSql {
  private final JobShape shape;

  RangeSql(JobShape shape) {
    this.shape = shape;
  }

  private String sourceRows(KeyRange.Predicate p) {
    return "SELECT " + shape.sourceProjection() + " FROM " + shape.job().source().table().sql() + " WHERE " + shape.whereClause()
        + " AND " + p.sql();
  }

  private String targetRows(KeyRange.Predicate p) {
    return "SELECT " + shape.targetColumnList() + " FROM " + shape.job().target().table().sql() + " WHERE " + p.sql();
  }

  private String keyText(String alias) {
    return shape.targetKey().stream().map(k -> alias + "." + Sql.ident(k) + "::text").collect(Collectors.joining(", "));
  }

  /** (key text.., row hash) of every source row in the range. */
  KeyRange.Predicate sourceHashes(KeyRange r) {
    KeyRange.Predicate p = r.predicate(shape.sourceKey(), shape.keyTypes(), 1);
    return new KeyRange.Predicate("SELECT " + keyText("s") + ", " + shape.rowHash().ofRow("s") + " FROM (" + sourceRows(p) + ") s", p.params());
  }

  KeyRange.Predicate targetHashes(KeyRange r) {
    KeyRange.Predicate p = r.predicate(shape.targetKey(), shape.keyTypes(), 1);
    return new KeyRange.Predicate("SELECT " + keyText("t") + ", " + shape.rowHash().ofRow("t") + " FROM (" + targetRows(p) + ") t", p.params());
  }

  /** The key at a position of the target range in key order. Params: the range, then the offset. */
  KeyRange.Predicate targetKeyAt(KeyRange r) {
    KeyRange.Predicate p = r.predicate(shape.targetKey(), shape.keyTypes(), 1);
    String order = shape.targetKey().stream().map(k -> "t." + Sql.ident(k)).collect(Collectors.joining(", "));
    return new KeyRange.Predicate("SELECT " + keyText("t") + " FROM " + shape.job().target().table().sql() + " t WHERE " + p.sql()
        + " ORDER BY " + order + " OFFSET $" + (p.params().size() + 1) + " LIMIT 1", p.params());
  }

  /** A sample of source rows: all mapped columns as text, plus whether each raw source column is NULL. */
  KeyRange.Predicate sourceSample(KeyRange r, double rate, List<String> rawColumns) {
    KeyRange.Predicate p = r.predicate(shape.sourceKey(), shape.keyTypes(), 1);
    String t = shape.job().source().table().sql();
    String keyRow = shape.sourceKey().stream().map(k -> t + "." + Sql.ident(k)).collect(Collectors.joining(", "));
    String cols = shape.columns().stream().map(c -> "(" + c.expression() + ")::" + c.type() + "::text").collect(Collectors.joining(", "));
    String nulls = rawColumns.stream().map(c -> c == null ? "NULL::boolean" : "(" + t + "." + Sql.ident(c) + " IS NULL)")
        .collect(Collectors.joining(", "));
    long threshold = Math.round(rate * 1_000_000);
    // Deterministic by key: the same rows are sampled on every run, spread over the whole range.
    return new KeyRange.Predicate("SELECT " + cols + (nulls.isEmpty() ? "" : ", " + nulls) + " FROM " + t + " WHERE " + shape.whereClause()
        + " AND " + p.sql() + " AND abs(hashtextextended(ROW(" + keyRow + ")::text, 17) % 1000000) < " + threshold, p.params());
  }

  /** Target rows for given keys: mapped columns as text. Params: one text[] per key column. */
  String targetByKeys() {
    String tk = "ROW(" + shape.targetKey().stream().map(k -> "t." + Sql.ident(k)).collect(Collectors.joining(", ")) + ")";
    StringBuilder typed = new StringBuilder();
    StringBuilder arrays = new StringBuilder();
    StringBuilder names = new StringBuilder();
    for (int i = 0; i < shape.keyTypes().size(); i++) {
      if (i > 0) {
        typed.append(", ");
        arrays.append(", ");
        names.append(", ");
      }
      typed.append("x.k").append(i).append("::").append(shape.keyTypes().get(i));
      arrays.append("$").append(i + 1).append("::text[]");
      names.append("k").append(i);
    }
    String cols = shape.columns().stream().map(c -> "t." + Sql.ident(c.name()) + "::text").collect(Collectors.joining(", "));
    return "SELECT " + cols + " FROM " + shape.job().target().table().sql() + " t WHERE " + tk + " IN (SELECT " + typed
        + " FROM unnest(" + arrays + ") AS x(" + names + "))";
  }
}
