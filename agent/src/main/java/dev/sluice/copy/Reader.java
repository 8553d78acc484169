package dev.sluice.copy;

import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
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
  private final Pool source;
  private final SegmentSql sql;
  private final List<Integer> keyIndexes = new ArrayList<>();

  public Reader(Pool source, SegmentSql sql) {
    this.source = source;
    this.sql = sql;
    List<JobShape.Column> cols = sql.shape().columns();
    for (String k : sql.shape().targetKey()) {
      for (int i = 0; i < cols.size(); i++) if (cols.get(i).name().equals(k)) keyIndexes.add(i);
    }
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
      if (started && !cursor.hasMore()) return Future.succeededFuture(new Batch(new String[0][0], 0, 0, null, null));
      started = true;
      return cursor.read(rows).map(Reader.this::encode);
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

  private Batch encode(RowSet<Row> rows) {
    int n = rows.size();
    int width = sql.shape().columns().size();
    String[][] cols = new String[width][n];
    long hash = 0;
    String first = null;
    String last = null;
    int i = 0;
    for (Row r : rows) {
      for (int c = 0; c < width; c++) cols[c][i] = r.getString(c);
      hash += r.getLong(width);
      if (i == 0) first = key(cols, 0);
      i++;
    }
    if (n > 0) last = key(cols, n - 1);
    return new Batch(cols, n, hash, first, last);
  }

  private String key(String[][] cols, int row) {
    if (keyIndexes.size() == 1) return cols[keyIndexes.get(0)][row];
    List<String> parts = new ArrayList<>();
    for (int k : keyIndexes) parts.add(cols[k][row]);
    return "(" + String.join(", ", parts) + ")";
  }
}
