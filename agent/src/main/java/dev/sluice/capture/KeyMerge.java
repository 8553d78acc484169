package dev.sluice.capture;

import dev.sluice.config.Sql;
import dev.sluice.copy.ColumnKind;
import dev.sluice.copy.RowDiffers;
import dev.sluice.inspect.JobShape;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The target side of a key sync when the target is PostgreSQL 15 or later: in one transaction, the
 * job's fence ({@code FOR SHARE} on its ledger row, held until the commit), one {@code MERGE} of the
 * re-read rows (a keyed lookup, then an update of a row that differs or an insert of a missing one)
 * and one {@code DELETE} of the keys not found. The MERGE cost about 0.6x the server CPU of
 * {@code INSERT .. ON CONFLICT DO UPDATE} for the same rows (its speculative insertion checks the key
 * index, then locks and updates: benchmarks/PROFILE.md, "The applier's write"). Rows equal to what
 * the target holds ({@link RowDiffers}, as the upsert compares them) are left alone.
 *
 * <p>A MERGE does not arbitrate a key inserted concurrently between its lookup and its insert (it
 * fails with unique_violation where the upsert would update): {@link KeySync} then writes the same
 * rows with the upsert.
 */
final class KeyMerge {
  static final int MIN_SERVER_VERSION = 150000;

  private final String job;
  private final String fence;
  private final String merge;
  private final String delete;

  KeyMerge(JobShape shape) {
    this.job = shape.job().name();
    this.fence = "SELECT count(*) FROM (" + KeySync.fenceRow(2) + ") f";
    this.merge = mergeSql(shape);
    this.delete = deleteSql(shape);
  }

  /**
   * Writes the packed rows ({@code packed}: one array text per column, null when no row was found)
   * and deletes the keys not found ({@code gone}: one array text per key column, null when none),
   * fenced by the job's state and, when {@code epoch} is not null, by the applier epoch.
   */
  Future<KeySync.Result> write(Pool target, List<String> packed, List<String> gone, Long epoch) {
    return target.withTransaction(conn -> conn.preparedQuery(fence).execute(Tuple.of(job, epoch)).compose(f -> {
      if (f.iterator().next().getLong(0) == 0) return Future.failedFuture(new KeySync.JobFenced(job));
      Future<Integer> upserted = packed.get(0) == null ? Future.succeededFuture(0)
          : conn.preparedQuery(merge).execute(Tuple.wrap(new ArrayList<Object>(packed))).map(r -> r.rowCount());
      return upserted.compose(u -> (gone.get(0) == null ? Future.succeededFuture(0)
          : conn.preparedQuery(delete).execute(Tuple.wrap(new ArrayList<Object>(gone))).map(r -> r.rowCount()))
          .map(d -> new KeySync.Result(u, d)));
    }));
  }

  /**
   * Params: one array text per column. The texts come in through a MATERIALIZED CTE, as the upsert's
   * do: the planner sees no array to parse, estimates a few rows and looks each key up in the key
   * index (never a hash join over the whole target).
   */
  static String mergeSql(JobShape shape) {
    List<String> texts = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    List<String> casts = new ArrayList<>();
    for (int i = 0; i < shape.columns().size(); i++) {
      JobShape.Column c = shape.columns().get(i);
      String name = Sql.ident(c.name());
      texts.add("$" + (i + 1) + "::text AS a" + i);
      arrays.add("unnest(p.a" + i + "::" + ColumnKind.of(c.type()).arrayType() + ") AS " + name);
      casts.add("u." + name + "::" + c.type() + " AS " + name);
    }
    String on = shape.targetKey().stream().map(k -> "t." + Sql.ident(k) + " = s." + Sql.ident(k)).collect(Collectors.joining(" AND "));
    List<JobShape.Column> rest = shape.nonKeyColumns();
    String matched = "";
    if (!rest.isEmpty()) {
      String set = rest.stream().map(c -> Sql.ident(c.name()) + " = s." + Sql.ident(c.name())).collect(Collectors.joining(", "));
      // Compared as the upsert does (RowDiffers): a row equal to what the target holds is left alone.
      matched = " WHEN MATCHED AND " + RowDiffers.sql(rest, "t", "s") + " THEN UPDATE SET " + set;
    }
    String values = shape.columns().stream().map(c -> "s." + Sql.ident(c.name())).collect(Collectors.joining(", "));
    return "WITH p AS MATERIALIZED (SELECT " + String.join(", ", texts) + ") MERGE INTO " + shape.job().target().table().sql()
        + " AS t USING (SELECT " + String.join(", ", casts) + " FROM (SELECT " + String.join(", ", arrays) + " FROM p) AS u) AS s ON "
        + on + matched + " WHEN NOT MATCHED THEN INSERT (" + shape.targetColumnList() + ") "
        + dev.sluice.copy.SegmentSql.OVERRIDING + "VALUES (" + values + ")";
  }

  /** Params: one array text per key column (the keys not found, as text; typed text, as a text[] would need a String[]). */
  static String deleteSql(JobShape shape) {
    List<String> arrays = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<String> typed = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) {
      arrays.add("$" + (i + 1) + "::text::text[]");
      names.add("g" + i);
      typed.add("x.g" + i + "::" + shape.keyTypes().get(i));
    }
    String tk = "ROW(" + shape.targetKey().stream().map(Sql::ident).collect(Collectors.joining(", ")) + ")";
    return "DELETE FROM " + shape.job().target().table().sql() + " WHERE " + tk + " IN (SELECT " + String.join(", ", typed)
        + " FROM unnest(" + String.join(", ", arrays) + ") AS x(" + String.join(", ", names) + "))";
  }
}
