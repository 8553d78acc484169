package dev.sluice.cache;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.ReadPathLedger;
import dev.sluice.plan.KeyRange;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of the read path for one job. Keys travel as one {@code text[]} per key column and are cast
 * in SQL, so PostgreSQL (not Java) parses, orders and compares them: text keys follow the column's
 * collation, timestamps the session's settings. Rows come back as {@code row_to_json} text of the
 * mapped columns in target order and types; on the source the job's projection (columns cast to the
 * target types) and filter apply, so a row in sync prints the same JSON on both sides.
 */
final class RowSql {
  private final JobShape shape;
  private final List<String> lookupTypes;
  private final String keyCte;
  private final String targetKeyRow;
  private final String sourceKeyRow;
  private final String keyRow;

  RowSql(JobShape shape, List<String> lookupTypes, int firstArray) {
    this.shape = shape;
    this.lookupTypes = lookupTypes;
    int k = lookupTypes.size();
    List<String> arrays = new ArrayList<>();
    List<String> parts = new ArrayList<>();
    List<String> casts = new ArrayList<>();
    List<String> refs = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      arrays.add("$" + (firstArray + i) + "::text[]");
      parts.add("p" + (i + 1));
      casts.add("u.p" + (i + 1) + "::" + lookupTypes.get(i) + " AS sluice_k" + (i + 1));
      refs.add("k.sluice_k" + (i + 1));
    }
    this.keyCte = "k AS MATERIALIZED (SELECT u.ord AS sluice_ord, " + String.join(", ", casts) + " FROM unnest("
        + String.join(", ", arrays) + ") WITH ORDINALITY AS u(" + String.join(", ", parts) + ", ord))";
    this.keyRow = row(refs);
    this.targetKeyRow = row(shape.targetKey().stream().map(c -> "t." + Sql.ident(c)).toList());
    String st = shape.job().source().table().sql();
    this.sourceKeyRow = row(shape.sourceKey().stream().map(c -> st + "." + Sql.ident(c)).toList());
  }

  private static String row(List<String> items) {
    return items.size() == 1 ? items.get(0) : "(" + String.join(", ", items) + ")";
  }

  /**
   * Canonical parts of keys. Params: one text[] per key column. Columns: each part's canonical text,
   * printed as the key column prints it (with its modifier: {@code 1.5} is {@code 1.50} in a
   * {@code numeric(10,2)} column), so that it equals the text the change applier announces.
   */
  String canonical() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < lookupTypes.size(); i++) out.add("k.sluice_k" + (i + 1) + "::" + shape.keyTypes().get(i) + "::text");
    return "WITH " + keyCte + " SELECT " + String.join(", ", out) + " FROM k ORDER BY k.sluice_ord";
  }

  /**
   * Target rows with, for each key, whether a verified segment of the job holds it. Params: $1 the
   * job, then one text[] per key column. Columns: verified, row JSON (null when absent).
   */
  String target() {
    // Bounds and keys are cast from text: each comparison names the target key column's collation, as
    // the column's own comparisons (the segment's copy and verification) order keys by it.
    List<String> lower = new ArrayList<>();
    List<String> upper = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) {
      lower.add("(s.lower_bound[" + (i + 1) + "])::" + shape.keyTypes().get(i) + shape.targetKeyCollate(i));
      upper.add("(s.upper_bound[" + (i + 1) + "])::" + shape.keyTypes().get(i) + shape.targetKeyCollate(i));
      keys.add("k.sluice_k" + (i + 1) + shape.targetKeyCollate(i));
    }
    String verified = ReadPathLedger.verifiedSegmentHolds(row(keys), row(lower), row(upper));
    return "WITH " + keyCte + " SELECT " + verified + ", (SELECT row_to_json(r)::text FROM (SELECT " + targetColumns()
        + " FROM " + shape.job().target().table().sql() + " t WHERE " + targetKeyRow + " = " + keyRow + ") r) "
        + "FROM k ORDER BY k.sluice_ord";
  }

  /** Source rows through the job's projection and filter. Params: one text[] per key column. Column: row JSON. */
  String source() {
    return "WITH " + keyCte + " SELECT (SELECT row_to_json(r)::text FROM (SELECT " + shape.sourceProjection() + " FROM "
        + shape.job().source().table().sql() + " WHERE " + shape.whereClause() + " AND " + sourceKeyRow + " = " + keyRow + ") r) "
        + "FROM k ORDER BY k.sluice_ord";
  }

  private String targetColumns() {
    return shape.columns().stream().map(c -> "t." + Sql.ident(c.name())).collect(Collectors.joining(", "));
  }

  /**
   * One warming batch of a segment in key order, after a key (keyset pagination: no snapshot is held
   * between batches). Params: the range's bounds, then the key to start after (if any), then the
   * limit. Columns: each key part's text, then the row JSON.
   */
  Statement warmBatch(KeyRange range, List<String> after, int limit) {
    KeyRange.Predicate p = range.predicate(shape.targetKey(), shape.keyTypes(), 1);
    List<Object> params = new ArrayList<>(p.params());
    String afterSql = "";
    if (after != null) {
      List<String> casts = new ArrayList<>();
      for (int i = 0; i < after.size(); i++) casts.add("$" + (params.size() + 1 + i) + "::text::" + shape.keyTypes().get(i));
      afterSql = " AND " + targetKeyRow + " > " + row(casts);
      params.addAll(after);
    }
    params.add((long) limit);
    List<String> keyText = shape.targetKey().stream().map(c -> "r." + Sql.ident(c) + "::text").toList();
    String order = shape.targetKey().stream().map(c -> "t." + Sql.ident(c)).collect(Collectors.joining(", "));
    String sql = "SELECT " + String.join(", ", keyText) + ", row_to_json(r)::text FROM (SELECT " + targetColumns() + " FROM "
        + shape.job().target().table().sql() + " t WHERE " + p.sql() + afterSql + " ORDER BY " + order + " LIMIT $" + params.size() + ") r";
    return new Statement(sql, params);
  }

  record Statement(String sql, List<Object> params) {}
}
