package dev.sluice.capture;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Makes a set of keys in the target equal to their current rows in the source: re-reads them in one
 * statement (one snapshot; with the job's row filter and column mapping), upserts the rows found and
 * deletes the keys not found (gone, or no longer matching {@code where}). Used by the change applier
 * and by verification's repairs.
 *
 * <p>Fence: both target statements run only while the job's ledger row is in a writing state,
 * holding {@code FOR SHARE} on it; a rollback (which updates that row) waits for an in-flight write,
 * and nothing is written after it.
 */
public final class KeySync {
  private static final String FENCE = "f AS (SELECT 1 FROM sluice.jobs WHERE name = $1 "
      + "AND state IN ('copying', 'catching_up', 'in_sync', 'failed') FOR SHARE)";

  private final JobShape shape;
  private final Pool source;
  private final Pool target;
  private final String read;
  private final String upsert;
  private final String delete;
  private final List<Integer> keyIndexes = new ArrayList<>();

  public KeySync(JobShape shape, Pool source, Pool target) {
    this.shape = shape;
    this.source = source;
    this.target = target;
    List<JobShape.Column> cols = shape.columns();
    for (String k : shape.targetKey()) {
      for (int i = 0; i < cols.size(); i++) if (cols.get(i).name().equals(k)) keyIndexes.add(i);
    }
    this.read = readSql();
    this.upsert = upsertSql();
    this.delete = deleteSql();
  }

  /** What a sync did. */
  public record Result(int upserted, int deleted) {}

  /** Thrown when the job's ledger row no longer allows writes (rolled back or being rolled back). */
  public static final class JobFenced extends RuntimeException {
    public JobFenced(String job) {
      super("job " + job + " no longer writes to the target (rolling back or rolled back)", null, false, false);
    }
  }

  /** Keys are source key values as text, one list per key. */
  public Future<Result> sync(List<List<String>> keys) {
    if (keys.isEmpty()) return Future.succeededFuture(new Result(0, 0));
    Tuple t = Tuple.tuple();
    for (int k = 0; k < shape.sourceKey().size(); k++) {
      String[] col = new String[keys.size()];
      for (int i = 0; i < keys.size(); i++) col[i] = keys.get(i).get(k);
      t.addArrayOfString(col);
    }
    return source.preparedQuery(read).execute(t).compose(rows -> {
      int width = shape.columns().size();
      Map<List<String>, String[]> found = new LinkedHashMap<>();
      List<List<String>> absent = new ArrayList<>();
      for (Row r : rows) {
        int ord = (int) (r.getLong(0) - 1);
        if (r.getBoolean(1) == null) {
          absent.add(keys.get(ord));
          continue;
        }
        String[] vals = new String[width];
        for (int c = 0; c < width; c++) vals[c] = r.getString(2 + c);
        List<String> tk = new ArrayList<>();
        for (int i : keyIndexes) tk.add(vals[i]);
        found.put(tk, vals); // the same key spelled twice (two sessions' text forms) is written once
      }
      return target.withTransaction(conn -> {
        Future<Integer> up = Future.succeededFuture(0);
        if (!found.isEmpty()) {
          Tuple u = Tuple.of(shape.job().name());
          List<String[]> vals = new ArrayList<>(found.values());
          for (int c = 0; c < width; c++) {
            String[] col = new String[vals.size()];
            for (int i = 0; i < vals.size(); i++) col[i] = vals.get(i)[c];
            u.addArrayOfString(col);
          }
          up = conn.preparedQuery(upsert).execute(u).compose(r -> checked(r.iterator().next()));
        }
        return up.compose(n -> {
          if (absent.isEmpty()) return Future.succeededFuture(new Result(n, 0));
          Tuple d = Tuple.of(shape.job().name());
          for (int k = 0; k < shape.sourceKey().size(); k++) {
            String[] col = new String[absent.size()];
            for (int i = 0; i < absent.size(); i++) col[i] = absent.get(i).get(k);
            d.addArrayOfString(col);
          }
          return conn.preparedQuery(delete).execute(d).compose(r -> checked(r.iterator().next())).map(x -> new Result(n, x));
        });
      });
    });
  }

  private Future<Integer> checked(Row r) {
    if (r.getLong(0) == 0) return Future.failedFuture(new JobFenced(shape.job().name()));
    return Future.succeededFuture(r.getLong(1).intValue());
  }

  private String keyParams(int first, String alias) {
    List<String> arrays = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < shape.sourceKey().size(); i++) {
      arrays.add("$" + (first + i) + "::text[]");
      names.add("sluice_k" + i);
    }
    return "unnest(" + String.join(", ", arrays) + ") WITH ORDINALITY AS " + alias + "(" + String.join(", ", names) + ", sluice_o)";
  }

  private String typedKeys(String alias) {
    return "ROW(" + typedColumns(alias) + ")";
  }

  /** The key parameters cast to the key types, as a column list (a subquery's select list). */
  private String typedColumns(String alias) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) out.add(alias + ".sluice_k" + i + "::" + shape.keyTypes().get(i));
    return String.join(", ", out);
  }

  private String readSql() {
    String t = shape.job().source().table().sql();
    String cols = shape.columns().stream().map(c -> "s." + Sql.ident(c.name()) + "::text").collect(Collectors.joining(", "));
    String srcKey = "ROW(" + shape.sourceKey().stream().map(k -> t + "." + Sql.ident(k)).collect(Collectors.joining(", ")) + ")";
    return "SELECT x.sluice_o, s.sluice_found, " + cols + " FROM " + keyParams(1, "x") + " LEFT JOIN LATERAL (SELECT true AS sluice_found, "
        + shape.sourceProjection() + " FROM " + t + " WHERE " + shape.whereClause() + " AND " + srcKey + " = " + typedKeys("x")
        + ") s ON true";
  }

  private String upsertSql() {
    List<String> casts = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    List<String> names = new ArrayList<>();
    int i = 2;
    for (JobShape.Column c : shape.columns()) {
      casts.add("u." + Sql.ident(c.name()) + "::" + c.type());
      arrays.add("$" + (i++) + "::text[]");
      names.add(Sql.ident(c.name()));
    }
    String onConflict = new dev.sluice.copy.SegmentSql(shape).onConflict();
    return "WITH " + FENCE + ", ins AS (INSERT INTO " + shape.job().target().table().sql() + " AS t (" + shape.targetColumnList() + ") "
        + "SELECT " + String.join(", ", casts) + " FROM unnest(" + String.join(", ", arrays) + ") AS u(" + String.join(", ", names) + ") "
        + "WHERE EXISTS (SELECT 1 FROM f) " + onConflict + " RETURNING 1) "
        + "SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM ins)";
  }

  private String deleteSql() {
    String tk = "ROW(" + shape.targetKey().stream().map(Sql::ident).collect(Collectors.joining(", ")) + ")";
    return "WITH " + FENCE + ", d AS (DELETE FROM " + shape.job().target().table().sql() + " WHERE EXISTS (SELECT 1 FROM f) AND "
        + tk + " IN (SELECT " + typedColumns("x") + " FROM " + keyParams(2, "x") + ") RETURNING 1) "
        + "SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM d)";
  }
}
