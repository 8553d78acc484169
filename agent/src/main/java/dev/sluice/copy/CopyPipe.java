package dev.sluice.copy;

import dev.sluice.ledger.LeaseLostException;
import dev.sluice.ledger.Segment;
import dev.sluice.resilience.DatabaseStalled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment through COPY, from the source's snapshot into the target, the bytes never decoded.
 *
 * <pre>
 * source thread                      event loop (the segment's context)           target thread
 * BEGIN RR READ ONLY; LOCK; COPY TO  -> chunk -> gate + pacer admit its rows, cut? -> COPY FROM
 * hash and count each row            (in order)                                      fence first, again at COMMIT
 * </pre>
 *
 * Two blocking loops on the engine's worker pool, one per database session, bridged by the
 * segment's Vert.x context, which admits each chunk in stream order: the job's gate and token
 * bucket admit its rows (counted from the stream), the cut rule may end the segment before it, and
 * cancellation is seen there. Bytes read and not yet written are bounded by a {@link ByteWindow}:
 * while a chunk waits for admission or for a slow target, the source thread waits, and so,
 * through TCP, does the source server. Any failure, a cut or a cancellation closes the window and
 * aborts the sessions still streaming: the source's snapshot ends, and the target's transaction,
 * not committed, rolls back. A side that waits on its database with no progress for the stall
 * timeout ({@link StallWatch}: a partition, a frozen host) fails the stream the same way, saying so.
 */
final class CopyPipe {
  /** Rows of the stream as one byte run, with their count and the sum of their hashes. */
  record Chunk(byte[] data, int length, int rows, long hash) {}

  private record Queued(Chunk chunk, long at) {}

  private static final Object END = new Object();
  private static final Logger log = LoggerFactory.getLogger(CopyPipe.class);
  /** Bytes handed to the target's socket per call: a slow but live target shows progress at least this often. */
  private static final int SLICE_BYTES = 64 * 1024;
  private static final String READING = "reading rows of the COPY";

  private final CopyEngine.Setup setup;
  private final Context ctx;
  private final Segment seg;
  private final boolean purge;
  private final SegmentCopier.Control control;
  private final ByteWindow window;
  private final int chunkBytes;
  private final BlockingQueue<Object> toTarget = new LinkedBlockingQueue<>();
  private final long began;
  private final StallWatch watch;
  private final StallWatch.Probe src;
  private final StallWatch.Probe tgt;
  private volatile int quantum;
  private volatile boolean stopped;
  /** Set with the first failure: the target must not commit. */
  private volatile boolean abandoned;
  /** Each session while its thread streams; whoever clears it first owns its end (returned to the pool, or aborted). */
  private final AtomicReference<Connection> source = new AtomicReference<>();
  private final AtomicReference<Connection> target = new AtomicReference<>();
  // Event-loop state: what was admitted to the target, and the first failure.
  private Future<Void> tail = Future.succeededFuture();
  private long rows;
  private long hash;
  private List<String> cutAt;
  private String cutReason;
  private Throwable failure;

  CopyPipe(CopyEngine.Setup setup, Context ctx, Segment seg, boolean purge, SegmentCopier.Control control) {
    this.setup = setup;
    this.ctx = ctx;
    this.seg = seg;
    this.purge = purge;
    this.control = control;
    this.began = control.nanoTime();
    this.window = new ByteWindow(setup.bufferBytes());
    this.chunkBytes = Math.max(1, setup.bufferBytes() / 4);
    this.quantum = Math.max(1, control.batchRows());
    this.watch = new StallWatch(setup.stallTimeout().toNanos());
    this.src = watch.probe(StallWatch.Side.SOURCE);
    this.tgt = watch.probe(StallWatch.Side.TARGET);
  }

  /** Runs the copy; completes (on the context) once both sessions are done with. */
  Future<SegmentCopier.Result> run() {
    Future<Long> read = setup.workers().executeBlocking(this::readSource, false);
    Future<Long> written = setup.workers().executeBlocking(this::writeTarget, false);
    Runnable unwatch = CopyEngine.watchdog(ctx, watch, control::nanoTime, this::stalled);
    return Future.join(read, written).transform(x -> {
      unwatch.run();
      if (failure != null) return Future.failedFuture(failure);
      if (written.failed()) return Future.failedFuture(CopyErrors.translate(written.cause()));
      if (read.failed()) return Future.failedFuture(new SegmentCopier.SourceFailure(CopyErrors.translate(read.cause())));
      if (written.result() != rows) {
        return Future.failedFuture(new IllegalStateException("the target took " + written.result() + " rows of the " + rows + " admitted"));
      }
      return Future.succeededFuture(new SegmentCopier.Result(rows, hash, cutAt, cutReason));
    });
  }

  // ---- source thread

  private long readSource() throws Exception {
    src.waiting("opening a session");
    try {
      return readSource(session(setup.source(), true));
    } finally {
      src.idle();
    }
  }

  private long readSource(Connection c) throws Exception {
    source.set(c);
    boolean clean = false;
    long total = 0;
    try (Statement st = c.createStatement()) {
      if (stopped) return 0;
      src.waiting("starting the snapshot and locking the table");
      st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      st.execute(setup.sql().lockSource());
      src.waiting("starting the COPY");
      CopyOut out = c.unwrap(PGConnection.class).getCopyAPI().copyOut(setup.sql().sourceCopy(seg.range()));
      src.waiting(READING);
      byte[] buf = new byte[chunkBytes];
      int len = 0;
      int n = 0;
      long h = 0;
      byte[] row;
      while ((row = out.readFromCopy()) != null) {
        src.progress();
        if (stopped) return total;
        if (row.length == 0 || row[row.length - 1] != CopyText.NEWLINE) {
          throw new IllegalStateException("a COPY message from the source is not one whole row");
        }
        if (n > 0 && (len + row.length > buf.length || n >= quantum)) {
          if (!emit(new Chunk(buf, len, n, h))) return total;
          buf = new byte[chunkBytes];
          len = 0;
          n = 0;
          h = 0;
        }
        if (n == 0 && row.length > buf.length) {
          buf = row; // one row larger than a chunk: sent as it came, not copied (a second copy of a huge row)
        } else {
          System.arraycopy(row, 0, buf, len, row.length);
        }
        len += row.length;
        n++;
        h += CopyText.rowHash(row, 0, row.length);
        total++;
      }
      if (n > 0 && !emit(new Chunk(buf, len, n, h))) return total;
      src.waiting("ending the snapshot");
      st.execute("COMMIT");
      clean = true;
      // Only after the snapshot ended cleanly: the target commits nothing the source did not finish.
      ctx.runOnContext(v -> sourceEnded());
      return total;
    } catch (Exception | Error e) {
      if (stopped) return total; // aborted on purpose: a cut, a cancellation or the target's failure
      ctx.runOnContext(v -> fail(new SegmentCopier.SourceFailure(CopyErrors.translate(e))));
      throw e;
    } finally {
      release(source, c, clean, setup.source());
    }
  }

  /**
   * A session for one side, or the pipe fails: the other side's thread waits for this one (the
   * target for chunks or the end, the source for room in the window), so a session that cannot be
   * opened (the server restarting, refusing connections) must end the pipe, not only this thread.
   */
  private Connection session(CopySessions pool, boolean sourceSide) throws SQLException {
    try {
      return pool.take();
    } catch (SQLException | RuntimeException e) {
      Throwable why = CopyErrors.translate(e);
      ctx.runOnContext(v -> fail(sourceSide ? new SegmentCopier.SourceFailure(why) : why));
      throw e;
    }
  }

  /** Hands a chunk to the event loop once the window has room; false when the stream is over. */
  private boolean emit(Chunk chunk) throws InterruptedException {
    src.idle(); // waiting on Sluice now (the pacer, the gate, the target), not on the source: not timed
    if (!window.acquire(chunk.length())) return false;
    src.waiting(READING);
    ctx.runOnContext(v -> tail = tail.compose(x -> admit(chunk)));
    return true;
  }

  // ---- event loop

  private Future<Void> admit(Chunk chunk) {
    if (stopped) return dropped(chunk);
    if (control.cancelled()) {
      fail(new SegmentCopier.Cancelled());
      return dropped(chunk);
    }
    // A gate already closed is not waited for with the segment's transactions open (their snapshot, and
    // on the target an xid, which would also keep a logical slot on the same cluster from advancing):
    // the cut below ends the segment here.
    boolean closed = rows > 0 && control.cutReason(control.nanoTime() - began) != null;
    return (closed ? Future.<Void>succeededFuture() : control.admit(chunk.rows())).compose(v -> {
      if (stopped) return dropped(chunk);
      // Decided after the pacer's wait, right before writing: a gate that closed meanwhile stops
      // the stream here, and the snapshot is let go rather than held while the job waits.
      String cut = rows > 0 ? control.cutReason(control.nanoTime() - began) : null;
      if (cut != null) {
        cutAt = CopyText.fields(chunk.data(), 0, setup.sql().keyFields());
        cutReason = cut;
        stop(END);
        return dropped(chunk);
      }
      return (rows > 0 ? Future.<Void>succeededFuture() : control.whenOpen()).compose(x -> {
        if (stopped) return dropped(chunk);
        rows += chunk.rows();
        hash += chunk.hash();
        toTarget.add(new Queued(chunk, control.nanoTime()));
        quantum = Math.max(1, control.batchRows());
        return Future.succeededFuture();
      });
    }).recover(e -> {
      fail(e);
      return dropped(chunk);
    });
  }

  private Future<Void> dropped(Chunk chunk) {
    window.release(chunk.length());
    return Future.succeededFuture();
  }

  private void sourceEnded() {
    tail = tail.andThen(x -> {
      if (!stopped) toTarget.add(END);
    });
  }

  /** A side answered nothing for the stall timeout: the stream fails with the reason, its sessions aborted. */
  private void stalled(StallWatch.Stall stall) {
    if (failure != null || (stall.side() == StallWatch.Side.SOURCE && stopped)) return; // over already; a stopped source was aborted
    log.warn("job {} segment {}: {}", seg.job(), seg.seq(), stall.reason());
    DatabaseStalled why = new DatabaseStalled(stall.reason());
    fail(stall.side() == StallWatch.Side.SOURCE ? new SegmentCopier.SourceFailure(why) : why);
  }

  /** The first failure wins; the target gets nothing more and rolls back, the source stops. */
  private void fail(Throwable e) {
    if (failure != null) return;
    failure = e;
    abandoned = true;
    stop(null);
    abort(target);
  }

  /** Ends the stream: the target gets {@code last} (END commits what it has), the source is let go. */
  private void stop(Object last) {
    if (stopped) return;
    stopped = true;
    if (last != null) toTarget.add(last);
    window.close();
    abort(source);
  }

  private static void abort(AtomicReference<Connection> session) {
    Connection c = session.getAndSet(null);
    if (c != null) CopySessions.abort(c, CopySessions.APART);
  }

  /** A session back to the pool after clean work, unless it was aborted meanwhile; else closed. */
  private static void release(AtomicReference<Connection> session, Connection c, boolean clean, CopySessions pool) {
    if (session.compareAndSet(c, null) && clean) {
      pool.give(c);
    } else {
      CopySessions.quietly(c);
    }
  }

  // ---- target thread

  private long writeTarget() throws Exception {
    tgt.waiting("opening a session");
    try {
      return writeTarget(session(setup.target(), false));
    } finally {
      tgt.idle();
    }
  }

  private long writeTarget(Connection c) throws Exception {
    target.set(c);
    boolean clean = false;
    try (Statement st = c.createStatement()) {
      tgt.waiting("starting the transaction and checking the lease");
      st.execute("BEGIN");
      // The commit need not wait for its WAL to reach disk: the ledger lives in this database, and its
      // own (synchronous) commit that records the segment copied comes later in the same WAL, so it
      // flushes this one first. A crash before that loses a commit the ledger never counted.
      st.execute("SET LOCAL synchronous_commit = off");
      fence(c, false);
      if (purge) {
        tgt.waiting("deleting the range before copying it again");
        st.executeUpdate(setup.sql().purge(seg.range()));
      }
      tgt.waiting("starting the COPY");
      CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(setup.sql().targetCopy());
      long written = 0;
      while (true) {
        tgt.idle(); // waiting for the next chunk: on the source or on Sluice, not on the target
        Object next = toTarget.poll(200, TimeUnit.MILLISECONDS);
        if (next == null) {
          if (abandoned) throw new IllegalStateException("stream abandoned");
          continue;
        }
        if (next == END) break;
        Chunk chunk = ((Queued) next).chunk();
        tgt.waiting("writing rows into the COPY");
        for (int off = 0; off < chunk.length(); off += SLICE_BYTES) {
          in.writeToCopy(chunk.data(), off, Math.min(SLICE_BYTES, chunk.length() - off));
          tgt.progress();
        }
        window.release(chunk.length());
        written += chunk.rows();
        long nanos = control.nanoTime() - ((Queued) next).at();
        ctx.runOnContext(v -> control.written(chunk.rows(), nanos));
      }
      tgt.waiting("ending the COPY");
      long stored = in.endCopy();
      if (stored != written) {
        throw new IllegalStateException("the target's COPY stored " + stored + " rows of the " + written + " sent: a trigger or rule "
            + "on the target table skips (or adds) rows (a BEFORE INSERT trigger returning NULL, a DO INSTEAD rule); Sluice copies into a "
            + "table that stores what it is given: disable it for the migration, or migrate into a table without it");
      }
      tgt.waiting("checking the lease and committing");
      fence(c, true);
      st.execute("COMMIT");
      clean = true;
      return written;
    } catch (Exception | Error e) {
      if (!abandoned) ctx.runOnContext(v -> fail(CopyErrors.translate(e)));
      throw e;
    } finally {
      release(target, c, clean, setup.target());
    }
  }

  private void fence(Connection c, boolean atCommit) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CopySql.fence(atCommit))) {
      ps.setString(1, seg.job());
      ps.setInt(2, seg.seq());
      ps.setString(3, setup.agentId());
      ps.setLong(4, seg.epoch());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) throw new LeaseLostException(seg.job(), seg.seq(), seg.epoch());
      }
    }
  }
}
