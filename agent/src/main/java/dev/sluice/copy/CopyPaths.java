package dev.sluice.copy;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SessionLimits;
import dev.sluice.inspect.JobShape;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

/** Opens the path a job's {@link PathChoice} names, with what each path needs. */
public final class CopyPaths {
  /**
   * Row bytes in flight per COPY stream, read from the source and not yet written to the target
   * ({@value}): a quarter of it is one chunk admitted at a time.
   */
  public static final int BUFFER_BYTES = 1 << 20;

  private CopyPaths() {}

  /**
   * Where the job's rows come from and go to: the pools (the row paths, and verification) and the
   * same endpoints' configs (the COPY path's own JDBC sessions, capped by {@code limits}).
   */
  public record Endpoints(Pool sourcePool, Pool targetPool, DatabaseConfig source, DatabaseConfig target, SessionLimits limits) {}

  /**
   * Segments of {@code job} in flight on this agent on the path {@code choice} names
   * ({@link JobConfig#concurrencyMax(boolean, int)}, with this machine's cores).
   */
  /**
   * Rows a second one COPY stream moves at full speed, as the pace's guess until it has measured the
   * job's own (benchmarks, arm 1: 50,000 to 100,000 rows of ~100 bytes a stream on two cores).
   */
  public static final int STREAM_ROWS_PER_SECOND = 50_000;

  public static int concurrency(JobConfig job, PathChoice choice) {
    return job.concurrencyMax(choice.kind() == PathChoice.Kind.COPY, Runtime.getRuntime().availableProcessors());
  }

  /**
   * The job's path. {@code maxPipes}: COPY streams of this job at once ({@link #concurrency});
   * the engine holds two worker threads and two sessions a stream.
   */
  public static CopyPath open(Vertx vertx, JobShape shape, PathChoice choice, Endpoints at, String agentId, int maxPipes,
      SegmentCopier.Control control) {
    SegmentSql sql = new SegmentSql(shape);
    if (choice.kind() != PathChoice.Kind.COPY) {
      boolean serverSide = choice.kind() == PathChoice.Kind.SERVER_SIDE;
      return new RowPath(new SegmentCopier(at.sourcePool(), at.targetPool(), sql, agentId, serverSide, control), sql, at.targetPool(),
          choice);
    }
    CopyEngine engine = new CopyEngine(vertx, shape, at.source(), at.target(), agentId,
        new CopyEngine.Settings(BUFFER_BYTES, Math.max(1, maxPipes), at.limits().statementTimeout(), at.limits().idleInTransactionTimeout(),
            at.limits().stallTimeout(), at.limits().nice()), control::nanoTime);
    return new CopyProtocolPath(engine, control, choice, at.sourcePool(), sql);
  }
}
