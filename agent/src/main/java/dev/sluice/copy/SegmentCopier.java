package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one segment, either through the agent (Reader -> admission (gate, pacer) -> Writer, with the next batch read
 * while the current one is written: at most two batches in memory) or server-side inside one
 * database ({@code INSERT .. SELECT} of the key range, one statement). Either way the result carries
 * the source side's count and hash, taken from the same scan.
 */
public final class SegmentCopier {
  private static final Logger log = LoggerFactory.getLogger(SegmentCopier.class);
  private final Pool source;
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

    /** The job's monotonic clock, in ns: it times each batch and a segment's age (any thread may ask). */
    long nanoTime();
  }

  public SegmentCopier(Pool source, Pool target, SegmentSql sql, String agentId, boolean serverSide, Control control) {
    this.source = source;
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

  /**
   * Copies a segment; {@code purgeFirst} clears what an earlier attempt left in the target range.
   * A first attempt (no purge: nothing wrote into the range before) streams with plain inserts; if a
   * row is there after all (23505: a failed segment's keys applied by the change applier, say), the
   * segment is copied again from a fresh snapshot with purge and upsert. A copy that read far fewer
   * rows than planned is counted again and fails with {@link ShortCopy} if the range holds more.
   */
  public Future<Result> copy(Segment seg, boolean purgeFirst) {
    boolean plain = !purgeFirst;
    Future<Result> first = copy(seg, purgeFirst, plain);
    if (plain) {
      first = first.recover(e -> {
        if (!isUniqueViolation(e)) return Future.failedFuture(e);
        log.info("job {} segment {}: a row was already in the target range ({}); purging it and upserting", seg.job(), seg.seq(),
            e.getMessage());
        return copy(seg, true, false);
      });
    }
    return first.compose(res -> recount(seg, res));
  }

  private Future<Result> recount(Segment seg, Result res) {
    return ShortCopy.recount(source, sql, seg, res);
  }


  private Future<Result> copy(Segment seg, boolean purgeFirst, boolean plain) {
    return target.getConnection().compose(conn -> {
      Future<Long> purged = purgeFirst ? writer.purge(conn, seg) : Future.succeededFuture(0L);
      return purged.compose(p -> serverSide ? copyServerSide(conn, seg, plain) : copyThrough(conn, seg, plain))
          .eventually(conn::close);
    });
  }

  static boolean isUniqueViolation(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof PgException pg) return "23505".equals(pg.getSqlState());
    }
    return false;
  }

  private Future<Result> copyServerSide(SqlConnection conn, Segment seg, boolean plain) {
    SegmentSql.Statement st = sql.serverCopy(seg.range(), plain);
    Tuple t = writer.fence(seg);
    st.params().forEach(t::addValue);
    long[] t0 = {0};
    return control.admit(Math.max(1, seg.rowsPlanned()))
        .compose(v -> {
          t0[0] = control.nanoTime();
          return conn.preparedQuery(st.sql()).execute(t);
        })
        .compose(rows -> {
          Row r = rows.iterator().next();
          return Writer.checked(r, seg).map(x -> {
            long n = r.getLong(1);
            control.written(n, control.nanoTime() - t0[0]);
            return new Result(n, Batch.wrap(r.getString(2)));
          });
        });
  }

  private Future<Result> copyThrough(SqlConnection conn, Segment seg, boolean plain) {
    long t0 = control.nanoTime();
    return reader.open(seg.range()).recover(SourceFailure::wrap).compose(stream -> {
      int n = control.batchRows();
      return pump(stream, conn, seg, plain, stream.next(n), 0, 0, t0).eventually(stream::close);
    });
  }

  private Future<Result> pump(Reader.Stream stream, SqlConnection conn, Segment seg, boolean plain, Future<Batch> current,
      long rows, long hash, long t0) {
    return current.recover(SourceFailure::wrap).compose(batch -> {
      if (batch.size() == 0) return Future.succeededFuture(new Result(rows, hash));
      if (control.cancelled()) return Future.failedFuture(new Cancelled());
      // Read ahead while this batch is paced and written.
      Future<Batch> next = stream.next(control.batchRows());
      long[] began = new long[1];
      // A gate already closed is not waited for with the segment's transactions open: the cut below ends it.
      boolean closed = rows > 0 && control.cutReason(control.nanoTime() - t0) != null;
      return (closed ? Future.<Void>succeededFuture() : control.admit(batch.size()))
          .compose(v -> {
            // Decided after the pacer's wait, right before writing: a gate that closed meanwhile
            // stops the writes at once, and the snapshot is let go rather than held while waiting.
            String cut = rows > 0 ? control.cutReason(control.nanoTime() - t0) : null;
            if (cut != null) return Future.succeededFuture(new Result(rows, hash, batch.firstKey(), cut));
            Future<Void> open = rows > 0 ? Future.succeededFuture() : control.whenOpen();
            return open.compose(x -> {
              began[0] = control.nanoTime();
              return writer.write(conn, seg, batch, plain);
            })
                .recover(e -> Future.failedFuture(new BatchFailure(batch, e)))
                .compose(written -> {
                  control.written(batch.size(), control.nanoTime() - began[0]);
                  return pump(stream, conn, seg, plain, next, rows + batch.size(), hash + batch.hashSum(), t0);
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
      return batch.keySpan();
    }
  }
}
