package dev.sluice.verify;

import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the keys that differ between source and target in a key range without listing the range:
 * compares the two sides' fingerprints, splits the range at the target's median key and recurses into
 * the halves that differ, and lists rows (key and row hash) only once a range holds at most
 * {@link #LEAF_ROWS} rows. Cost: about two fingerprints per level per differing key.
 */
public final class Bisector {
  static final long LEAF_ROWS = 256;

  private final JobShape shape;
  private final Verifier verifier;
  private final RangeSql sql;

  public Bisector(JobShape shape, Verifier verifier) {
    this.shape = shape;
    this.verifier = verifier;
    this.sql = new RangeSql(shape);
  }

  /** Differing keys (target-typed key values as text), at most {@code limit}. */
  public Future<List<List<String>>> differingKeys(SqlClient source, SqlClient target, KeyRange range, int limit) {
    List<List<String>> out = new ArrayList<>();
    return walk(source, target, range, limit, out, 0).map(v -> out);
  }

  private Future<Void> walk(SqlClient source, SqlClient target, KeyRange r, int limit, List<List<String>> out, int depth) {
    if (out.size() >= limit) return Future.succeededFuture();
    return verifier.source(source, r).compose(s -> verifier.target(target, r).compose(t -> {
      if (s.equals(t)) return Future.succeededFuture();
      long n = Math.max(s.rows(), t.rows());
      if (n <= LEAF_ROWS || depth > 60) return leaf(source, target, r, limit, out);
      return median(target, r, t.rows() > 1 ? t.rows() / 2 : 0).compose(mid -> {
        if (mid == null || mid.equals(r.lower())) return leaf(source, target, r, limit, out);
        return walk(source, target, new KeyRange(r.lower(), mid), limit, out, depth + 1)
            .compose(v -> walk(source, target, new KeyRange(mid, r.upper()), limit, out, depth + 1));
      });
    }));
  }

  private Future<List<String>> median(SqlClient target, KeyRange r, long offset) {
    KeyRange.Predicate p = sql.targetKeyAt(r);
    Tuple t = Tuple.tuple(p.params());
    t.addLong(offset);
    return target.preparedQuery(p.sql()).execute(t).map(rows -> rows.size() == 0 ? null : texts(rows.iterator().next(), shape.targetKey().size()));
  }

  private Future<Void> leaf(SqlClient source, SqlClient target, KeyRange r, int limit, List<List<String>> out) {
    KeyRange.Predicate ps = sql.sourceHashes(r);
    KeyRange.Predicate pt = sql.targetHashes(r);
    int k = shape.targetKey().size();
    return source.preparedQuery(ps.sql()).execute(Tuple.tuple(ps.params())).compose(srows ->
        target.preparedQuery(pt.sql()).execute(Tuple.tuple(pt.params())).map(trows -> {
          Map<List<String>, Long> src = new HashMap<>();
          for (Row row : srows) src.put(texts(row, k), row.getLong(k));
          Set<List<String>> diff = new LinkedHashSet<>();
          for (Row row : trows) {
            List<String> key = texts(row, k);
            Long h = src.remove(key);
            if (h == null || h.longValue() != row.getLong(k)) diff.add(key);
          }
          diff.addAll(src.keySet()); // in the source only
          for (List<String> key : diff) {
            if (out.size() >= limit) break;
            out.add(key);
          }
          return null;
        }));
  }

  private static List<String> texts(Row r, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(r.getString(i));
    return out;
  }

  /** A key for messages: the value, or {@code (a, b)} for a composite key. */
  public static String describe(List<String> key) {
    return key.size() == 1 ? key.get(0) : "(" + String.join(", ", key) + ")";
  }
}
