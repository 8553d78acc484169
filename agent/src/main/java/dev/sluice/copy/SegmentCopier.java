package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;

/**
 * Copies one segment, either through the agent (Reader -> admission (gate, pacer) -> Writer, with the next batch read
 * while the current one is written: at most two batches in memory) or server-side inside one
 * database ({@code INSERT .. SELECT} of the key range, one statement). Either way the result carries
 * the source side's count and hash, taken from the same scan.
 */
public final class SegmentCopier {
  private final Pool target;
  private final SegmentSql sql;
  private final Reader reader;
  private final Writer writer;
  private final boolean serverSide;
  private final Control control;

  /** Told about every batch written: its rows and how long the write took. */
  @FunctionalInterface
  public interface BatchListener {
    void written(long rows, long nanos);
  }

  /** What a copy asks of the job around each batch: size, admission (gate and pace), feedback, cuts. */
  public interface Control {
    /** Rows to read for the next batch. */
    int batchRows();

    /** Completes when a batch of {@code rows} may be written (the job's gate is open and the rate allows). */
    Future<Void> admit(long rows);

    /** Completes when the job's gate is open. */
    Future<Void> whenOpen();

    /** A batch of {@code rows} was written in {@code nanos}. */
    void written(long rows, long nanos);

    /**
     * Whether to end this segment's copy before the next batch, {@code elapsedNanos} after it began
     * (its snapshot's age): a reason, or null to go on. The rest of the range becomes a new segment.
     */
    String cutReason(long elapsedNanos);

    /** The agent is stopping. */
    boolean cancelled();
  }

  public SegmentCopier(Pool source, Pool target, SegmentSql sql, String agentId, boolean serverSide, Control control) {
    this.target = target;
    this.sql = sql;
    this.reader = new Reader(source, sql);
    this.writer = new Writer(sql, agentId);
    this.serverSide = serverSide;
    this.control = control;
  }

  /**
   * What a copy saw on the source: rows and the sum of their hashes. {@code cutAt} is null when the
   * whole segment was copied; otherwise the copy covers keys below {@code cutAt} only, and says why.
   */
  public record Result(long rows, long hash, List<String> cutAt, String cutReason) {
    public Result(long rows, long hash) {
      this(rows, hash, null, null);
    }
  }

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
    return control.admit(Math.max(1, seg.rowsPlanned()))
        .compose(v -> {
          t0[0] = System.nanoTime();
          return conn.preparedQuery(st.sql()).execute(t);
        })
        .compose(rows -> {
          Row r = rows.iterator().next();
          return Writer.checked(r, seg).map(x -> {
            long n = r.getLong(1);
            control.written(n, System.nanoTime() - t0[0]);
            return new Result(n, Batch.wrap(r.getString(2)));
          });
        });
  }

  private Future<Result> copyThrough(SqlConnection conn, Segment seg) {
    long t0 = System.nanoTime();
    return reader.open(seg.range()).recover(SourceFailure::wrap).compose(stream -> {
      int n = control.batchRows();
      return pump(stream, conn, seg, stream.next(n), 0, 0, t0).eventually(stream::close);
    });
  }

  private Future<Result> pump(Reader.Stream stream, SqlConnection conn, Segment seg, Future<Batch> current, long rows, long hash, long t0) {
    return current.recover(SourceFailure::wrap).compose(batch -> {
      if (batch.size() == 0) return Future.succeededFuture(new Result(rows, hash));
      if (control.cancelled()) return Future.failedFuture(new Cancelled());
      // Read ahead while this batch is paced and written.
      Future<Batch> next = stream.next(control.batchRows());
      long[] began = new long[1];
      return control.admit(batch.size())
          .compose(v -> {
            // Decided after the pacer's wait, right before writing: a gate that closed meanwhile
            // stops the writes at once, and the snapshot is let go rather than held while waiting.
            String cut = rows > 0 ? control.cutReason(System.nanoTime() - t0) : null;
            if (cut != null) return Future.succeededFuture(new Result(rows, hash, reader.keyValues(batch, 0), cut));
            Future<Void> open = rows > 0 ? Future.succeededFuture() : control.whenOpen();
            return open.compose(x -> {
              began[0] = System.nanoTime();
              return writer.write(conn, seg, batch);
            })
                .recover(e -> Future.failedFuture(new BatchFailure(batch, e)))
                .compose(written -> {
                  control.written(batch.size(), System.nanoTime() - began[0]);
                  return pump(stream, conn, seg, next, rows + batch.size(), hash + batch.hashSum(), t0);
                });
          });
    });
  }

  /** Reading the source failed (as opposed to writing the target): the source's circuit breaker counts it. */
  public static final class SourceFailure extends RuntimeException {
    SourceFailure(Throwable cause) {
      super(cause.getMessage(), cause);
    }

    static <T> Future<T> wrap(Throwable e) {
      return Future.failedFuture(e instanceof SourceFailure ? e : new SourceFailure(e));
    }
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
