package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import dev.sluice.pace.Pacer;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.function.IntSupplier;

/**
 * Copies one segment, either through the agent (Reader -> Pacer -> Writer, with the next batch read
 * while the current one is written: at most two batches in memory) or server-side inside one
 * database ({@code INSERT .. SELECT} of the key range, one statement). Either way the result carries
 * the source side's count and hash, taken from the same scan.
 */
public final class SegmentCopier {
  private final Pool target;
  private final SegmentSql sql;
  private final Reader reader;
  private final Writer writer;
  private final Pacer pacer;
  private final boolean serverSide;
  private final IntSupplier batchRows;
  private final BatchListener onBatch;
  private final java.util.function.BooleanSupplier cancelled;

  public SegmentCopier(Pool source, Pool target, SegmentSql sql, String agentId, Pacer pacer, boolean serverSide,
      IntSupplier batchRows, BatchListener onBatch, java.util.function.BooleanSupplier cancelled) {
    this.target = target;
    this.sql = sql;
    this.reader = new Reader(source, sql);
    this.writer = new Writer(sql, agentId);
    this.pacer = pacer;
    this.serverSide = serverSide;
    this.batchRows = batchRows;
    this.onBatch = onBatch;
    this.cancelled = cancelled;
  }

  /** Told about every batch written: its rows and how long the write took. */
  @FunctionalInterface
  public interface BatchListener {
    void written(long rows, long nanos);
  }

  /** What a copy saw on the source: rows and the sum of their hashes. */
  public record Result(long rows, long hash) {}

  public boolean serverSide() {
    return serverSide;
  }

  /** Copies a segment; {@code purgeFirst} clears what an earlier attempt left in the target range. */
  public Future<Result> copy(Segment seg, boolean purgeFirst) {
    return target.getConnection().compose(conn -> {
      Future<Long> purged = purgeFirst ? writer.purge(conn, seg) : Future.succeededFuture(0L);
      return purged.compose(p -> serverSide ? copyServerSide(conn, seg) : copyThrough(conn, seg))
          .eventually(conn::close);
    });
  }

  private Future<Result> copyServerSide(SqlConnection conn, Segment seg) {
    SegmentSql.Statement st = sql.serverCopy(seg.range());
    Tuple t = writer.fence(seg);
    st.params().forEach(t::addValue);
    long[] t0 = {0};
    return pacer.acquire(Math.max(1, seg.rowsPlanned()))
        .compose(v -> {
          t0[0] = System.nanoTime();
          return conn.preparedQuery(st.sql()).execute(t);
        })
        .compose(rows -> {
          Row r = rows.iterator().next();
          return Writer.checked(r, seg).map(x -> {
            long n = r.getLong(1);
            onBatch.written(n, System.nanoTime() - t0[0]);
            return new Result(n, Batch.wrap(r.getString(2)));
          });
        });
  }

  private Future<Result> copyThrough(SqlConnection conn, Segment seg) {
    return reader.open(seg.range()).compose(stream -> {
      int n = batchRows.getAsInt();
      return pump(stream, conn, seg, stream.next(n), 0, 0).eventually(stream::close);
    });
  }

  private Future<Result> pump(Reader.Stream stream, SqlConnection conn, Segment seg, Future<Batch> current, long rows, long hash) {
    return current.compose(batch -> {
      if (batch.size() == 0) return Future.succeededFuture(new Result(rows, hash));
      if (cancelled.getAsBoolean()) return Future.failedFuture(new Cancelled());
      // Read ahead while this batch is paced and written.
      Future<Batch> next = stream.next(batchRows.getAsInt());
      long[] t0 = {0};
      return pacer.acquire(batch.size())
          .compose(v -> {
            t0[0] = System.nanoTime();
            return writer.write(conn, seg, batch);
          })
          .recover(e -> Future.failedFuture(new BatchFailure(batch, e)))
          .compose(written -> {
            onBatch.written(batch.size(), System.nanoTime() - t0[0]);
            return pump(stream, conn, seg, next, rows + batch.size(), hash + batch.hashSum());
          });
    });
  }

  /** The copy was abandoned because the agent is stopping; the segment's lease is handed back. */
  public static final class Cancelled extends RuntimeException {
    Cancelled() {
      super("copy cancelled: agent stopping", null, false, false);
    }
  }

  /** A batch write failed; carries the batch's key span so the error can say where. */
  public static final class BatchFailure extends RuntimeException {
    private final transient Batch batch;

    BatchFailure(Batch batch, Throwable cause) {
      super(cause.getMessage(), cause);
      this.batch = batch;
    }

    public String keySpan() {
      return batch.firstKey() + " .. " + batch.lastKey();
    }
  }
}
