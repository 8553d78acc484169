package dev.sluice.copy;

import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one segment from the source as keyset pages inside one {@code REPEATABLE READ READ ONLY}
 * transaction: one consistent snapshot per segment, memory bounded by the batch size whatever the
 * segment holds, and backpressure for free (the next page is asked for only when wanted). Each page
 * comes back as ONE row ({@link SegmentSql#read}): every column's values packed into one array text,
 * so the client decodes a handful of strings per batch instead of every value.
 *
 * <p>The transaction's first statement is {@code LOCK TABLE .. IN ACCESS SHARE MODE}, before any
 * SELECT: in REPEATABLE READ the snapshot is taken when the first SELECT starts, before that SELECT
 * waits for its table lock. Behind a table rewrite holding ACCESS EXCLUSIVE ({@code ALTER .. TYPE},
 * a {@code USING} rewrite, {@code TRUNCATE}), such a snapshot predates the rewrite, which is not
 * MVCC-safe: the SELECT reads the new files and sees no rows, with a count and hash that agree, so
 * the segment would verify empty. LOCK does not take the snapshot, so it is taken after the lock is
 * granted and sees the rewritten table. ACCESS SHARE is the lock the first SELECT takes anyway, held
 * to the end of the transaction either way; it is allowed in a READ ONLY transaction and on a standby.
 */
public final class Reader {
  private final Pool source;
  private final SegmentSql sql;
  private final int width;
  private final int keys;
  private final String begin;

  public Reader(Pool source, SegmentSql sql) {
    this.source = source;
    this.sql = sql;
    this.width = sql.kinds().size();
    this.keys = sql.shape().targetKey().size();
    this.begin = begin(sql.shape().job().source().table().sql());
  }

  /** The transaction's start: the lock first, so the snapshot (taken by the first SELECT) follows it. */
  static String begin(String table) {
    return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; LOCK TABLE " + table + " IN ACCESS SHARE MODE";
  }

  /** An open stream over one segment. Close it whatever happens. */
  public final class Stream {
    private final SqlConnection conn;
    private final KeyRange range;
    private List<String> after;
    private boolean done;

    private Stream(SqlConnection conn, KeyRange range) {
      this.conn = conn;
      this.range = range;
    }

    /** The next batch of up to {@code rows} rows (an empty batch at the end). Call after the previous one completed. */
    public Future<Batch> next(int rows) {
      if (done) return Future.succeededFuture(Batch.END);
      SegmentSql.Statement st = sql.read(range, after, rows);
      return conn.preparedQuery(st.sql()).execute(Tuple.tuple(st.params())).map(rs -> {
        Batch b = decode(rs.iterator().next());
        done = b.size() < rows;
        after = b.lastKey();
        return b;
      });
    }

    /** Ends the snapshot and returns the connection; never fails. */
    public Future<Void> close() {
      return conn.query("COMMIT").execute().transform(x -> conn.close()).otherwiseEmpty();
    }
  }

  public Future<Stream> open(KeyRange range) {
    return source.getConnection().compose(conn -> conn.query(begin).execute()
        .map(v -> new Stream(conn, range))
        // A failed LOCK leaves the transaction open and aborted: end it before the connection goes back to the pool.
        .recover(e -> conn.query("ROLLBACK").execute().transform(x -> conn.close()).transform(x -> Future.failedFuture(e))));
  }

  /** The page row: count, hash sum, one array text per column, then the first and the last key. */
  private Batch decode(Row r) {
    int n = r.getLong(0).intValue();
    if (n == 0) return Batch.END;
    String[] cols = new String[width];
    for (int c = 0; c < width; c++) cols[c] = r.getString(2 + c);
    List<String> first = new ArrayList<>(keys);
    List<String> last = new ArrayList<>(keys);
    for (int k = 0; k < keys; k++) {
      first.add(r.getString(2 + width + 2 * k));
      last.add(r.getString(3 + width + 2 * k));
    }
    return new Batch(cols, n, Batch.wrap(r.getString(1)), first, last);
  }
}
