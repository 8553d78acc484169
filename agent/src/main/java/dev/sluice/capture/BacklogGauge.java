package dev.sluice.capture;

import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The changelog's backlog as the applier last measured it: entries waiting (counted up to
 * {@value #BACKLOG_CAP}, -1 before the first measure) and the oldest one's age. A large backlog is
 * counted every {@value #LARGE_BACKLOG_EVERY} seconds only: a count reads every entry, and the
 * applier needs the source's time more than the dashboard does.
 */
final class BacklogGauge {
  private static final Logger log = LoggerFactory.getLogger(BacklogGauge.class);
  static final long BACKLOG_CAP = 10_000_000;
  /** Over this many entries the backlog is counted less often. */
  static final long LARGE_BACKLOG = 100_000;
  static final int LARGE_BACKLOG_EVERY = 5;

  private final String job;
  private final WatchedPool source;
  private final CaptureSql sql;
  private volatile long rows = -1;
  private volatile long oldestAgeMs;
  private long skipped;
  private volatile Future<Void> measuring;

  BacklogGauge(String job, WatchedPool source, CaptureSql sql) {
    this.job = job;
    this.source = source;
    this.sql = sql;
  }

  long rows() {
    return rows;
  }

  long oldestAgeMs() {
    return oldestAgeMs;
  }

  /**
   * Measures again (called once a second, on the applier's context); never fails. One measure at a
   * time: the one in flight is the answer (a measure that waits on a silent source would otherwise be
   * joined by another every second, each holding a connection).
   */
  Future<Void> measure() {
    if (measuring != null && !measuring.isComplete()) return measuring;
    if (rows > LARGE_BACKLOG && ++skipped % LARGE_BACKLOG_EVERY != 0) return Future.succeededFuture();
    measuring = source.timed("measuring the backlog", () -> source.pool().preparedQuery(sql.backlog()).execute(Tuple.of(BACKLOG_CAP))).map(result -> {
      Row r = result.iterator().next();
      rows = r.getLong(0);
      Long age = r.getLong(1);
      oldestAgeMs = age == null ? 0 : age;
      return (Void) null;
    }).otherwise(e -> {
      log.debug("job {}: cannot measure the backlog: {}", job, ErrorClassifier.describe(e));
      return null;
    });
    return measuring;
  }
}
