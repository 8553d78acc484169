package dev.sluice.copy;

import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams one segment from the source through a server-side cursor inside a {@code REPEATABLE READ
 * READ ONLY} transaction: one consistent snapshot per segment, memory bounded by the batch size
 * whatever the segment holds, and backpressure for free (the next batch is fetched only when asked).
 */
public final class Reader {
  private static final Batch END = new Batch(new Object[0][0], 0, 0, null, null);

  private final Pool source;
  private final SegmentSql sql;
  private final ColumnKind[] kinds;
  private final int[] keyIndexes;

  public Reader(Pool source, SegmentSql sql) {
    this.source = source;
    this.sql = sql;
    this.kinds = sql.kinds().toArray(new ColumnKind[0]);
    List<JobShape.Column> cols = sql.shape().columns();
    List<Integer> keys = new ArrayList<>();
    for (String k : sql.shape().targetKey()) {
      for (int i = 0; i < cols.size(); i++) if (cols.get(i).name().equals(k)) keys.add(i);
    }
    this.keyIndexes = keys.stream().mapToInt(Integer::intValue).toArray();
  }

  /** An open stream over one segment. Close it whatever happens. */
  public final class Stream {
    private final SqlConnection conn;
    private final Cursor cursor;
    private boolean started;

    private Stream(SqlConnection conn, Cursor cursor) {
      this.conn = conn;
      this.cursor = cursor;
    }

    /** The next batch of up to {@code rows} rows (an empty batch at the end). */
    public Future<Batch> next(int rows) {
      if (started && !cursor.hasMore()) return Future.succeededFuture(END);
      started = true;
      return cursor.read(rows).map(rs -> encode(kinds, keyIndexes, rs, rs.size()));
    }

    /** Ends the snapshot and returns the connection; never fails. */
    public Future<Void> close() {
      return cursor.close().transform(x -> conn.query("COMMIT").execute()).transform(x -> conn.close()).otherwiseEmpty();
    }
  }

  public Future<Stream> open(KeyRange range) {
    SegmentSql.Statement st = sql.read(range);
    return source.getConnection().compose(conn -> conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute()
        .compose(v -> conn.prepare(st.sql()))
        .map(ps -> new Stream(conn, ps.cursor(Tuple.tuple(st.params()))))
        .onFailure(e -> conn.close()));
  }

  /**
   * Rows as the read query returns them (the columns, then the row hash) into one column-major
   * batch; the key span is rendered only for the batch's first and last rows.
   */
  static Batch encode(ColumnKind[] kinds, int[] keyIndexes, Iterable<Row> rows, int n) {
    int width = kinds.length;
    Object[][] cols = new Object[width][];
    for (int c = 0; c < width; c++) cols[c] = kinds[c].newArray(n);
    long hash = 0;
    int i = 0;
    for (Row r : rows) {
      for (int c = 0; c < width; c++) cols[c][i] = kinds[c].read(r, c);
      hash += r.getLong(width);
      i++;
    }
    return n == 0 ? END : new Batch(cols, n, hash, key(keyIndexes, cols, 0), key(keyIndexes, cols, n - 1));
  }

  /** The key of one row of a batch as text values, in key order: a segment bound. */
  public List<String> keyValues(Batch batch, int row) {
    List<String> out = new ArrayList<>();
    for (int k : keyIndexes) out.add(String.valueOf(batch.columns()[k][row]));
    return out;
  }

  private static String key(int[] keyIndexes, Object[][] cols, int row) {
    if (keyIndexes.length == 1) return String.valueOf(cols[keyIndexes[0]][row]);
    List<String> parts = new ArrayList<>();
    for (int k : keyIndexes) parts.add(String.valueOf(cols[k][row]));
    return "(" + String.join(", ", parts) + ")";
  }
}
