package dev.sluice.cache;

import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the read path's queries for one job: any number of keys in one round trip per database.
 * Reads use their own small pools, so a burst of reads never waits behind the copy's connections.
 */
public final class RowLookup {
  private final String job;
  private final Pool source;
  private final Pool target;
  private final KeyCodec codec;
  private final RowSql keysOnly;
  // Built once: every read runs one of them, and the read pools key their prepared statements by text.
  private final String canonicalSql;
  private final String targetSql;
  private final String sourceSql;

  /** A target row (null when absent) and whether a verified segment of the job holds its key. */
  public record TargetRow(boolean verified, String row) {}

  /** One warmed row: its key's canonical parts and its JSON. */
  public record KeyedRow(List<String> key, String row) {}

  public RowLookup(JobShape shape, KeyCodec codec, Pool source, Pool target) {
    this.job = shape.job().name();
    this.source = source;
    this.target = target;
    this.codec = codec;
    this.keysOnly = new RowSql(shape, codec.lookupTypes(), 1);
    this.canonicalSql = keysOnly.canonical();
    this.targetSql = new RowSql(shape, codec.lookupTypes(), 2).target();
    this.sourceSql = keysOnly.source();
  }

  /**
   * One statement on a connection of {@code pool}: the read pools time a statement from when it holds
   * its connection (the wait for one is the pool's own connection timeout), so a burst of reads queued
   * for the pool's few connections is not taken for a silent database.
   */
  private static Future<RowSet<Row>> run(Pool pool, String sql, Tuple params) {
    return pool.withConnection(c -> c.preparedQuery(sql).execute(params));
  }

  private Tuple arrays(List<List<String>> keys, Tuple t) {
    for (int c = 0; c < codec.width(); c++) {
      String[] col = new String[keys.size()];
      for (int i = 0; i < keys.size(); i++) col[i] = keys.get(i).get(c);
      t.addArrayOfString(col);
    }
    return t;
  }

  /** PostgreSQL's canonical text of each key's parts (fails with PostgreSQL's message for a malformed key). */
  public Future<List<List<String>>> canonical(List<List<String>> keys) {
    return run(target, canonicalSql, arrays(keys, Tuple.tuple())).map(rows -> {
      List<List<String>> out = new ArrayList<>(keys.size());
      for (Row r : rows) {
        List<String> parts = new ArrayList<>(codec.width());
        for (int c = 0; c < codec.width(); c++) parts.add(r.getString(c));
        out.add(parts);
      }
      return out;
    });
  }

  public Future<List<TargetRow>> target(List<List<String>> keys) {
    return run(target, targetSql, arrays(keys, Tuple.of(job))).map(rows -> {
      List<TargetRow> out = new ArrayList<>(keys.size());
      for (Row r : rows) out.add(new TargetRow(r.getBoolean(0), r.getString(1)));
      return out;
    });
  }

  public Future<List<String>> source(List<List<String>> keys) {
    return run(source, sourceSql, arrays(keys, Tuple.tuple())).map(rows -> {
      List<String> out = new ArrayList<>(keys.size());
      for (Row r : rows) out.add(r.getString(0));
      return out;
    });
  }

  /** Up to {@code limit} target rows of a range in key order, after {@code after} (null: from the start). */
  public Future<List<KeyedRow>> warmBatch(KeyRange range, List<String> after, int limit) {
    RowSql.Statement st = keysOnly.warmBatch(range, after, limit);
    return run(target, st.sql(), Tuple.from(st.params())).map(rows -> {
      List<KeyedRow> out = new ArrayList<>(rows.size());
      for (Row r : rows) {
        List<String> key = new ArrayList<>(codec.width());
        for (int c = 0; c < codec.width(); c++) key.add(r.getString(c));
        out.add(new KeyedRow(key, r.getString(codec.width())));
      }
      return out;
    });
  }
}
