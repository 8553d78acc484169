package dev.sluice.plan;

import dev.sluice.config.Sql;
import java.util.ArrayList;
import java.util.List;

/**
 * A half-open range of keys {@code [lower, upper)}; a null bound is unbounded. Bounds are the keys'
 * text forms, cast back to the key types in SQL, so any orderable type works the same way; composite
 * keys compare as rows, which is PostgreSQL's lexicographic order and uses the key's btree index.
 */
public record KeyRange(List<String> lower, List<String> upper) {
  public static final KeyRange ALL = new KeyRange(null, null);

  /** A SQL condition with its parameters, numbered from a given position. */
  public record Predicate(String sql, List<Object> params) {}

  public Predicate predicate(List<String> columns, List<String> types, int firstParam) {
    return predicateOn(columns.stream().map(Sql::ident).toList(), types, firstParam);
  }

  /** The same condition over SQL expressions instead of column names (e.g. a changelog's key array). */
  public Predicate predicateOn(List<String> expressions, List<String> types, int firstParam) {
    List<Object> params = new ArrayList<>();
    List<String> parts = new ArrayList<>();
    String me = expressions.size() == 1 ? expressions.get(0) : "(" + String.join(", ", expressions) + ")";
    int p = firstParam;
    if (lower != null) {
      parts.add(me + " >= " + row(types, p));
      params.addAll(lower);
      p += lower.size();
    }
    if (upper != null) {
      parts.add(me + " < " + row(types, p));
      params.addAll(upper);
    }
    return new Predicate(parts.isEmpty() ? "TRUE" : String.join(" AND ", parts), params);
  }

  static String row(List<String> types, int first) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < types.size(); i++) out.add("$" + (first + i) + "::text::" + types.get(i));
    return types.size() == 1 ? out.get(0) : "(" + String.join(", ", out) + ")";
  }

  @Override
  public String toString() {
    return "[" + (lower == null ? "-inf" : String.join(",", lower)) + ", " + (upper == null ? "+inf" : String.join(",", upper)) + ")";
  }
}
