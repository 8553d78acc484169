package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import dev.sluice.resilience.RetryableFailure;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy of a whole segment (not cut) that read fewer than half of a plan of at least
 * {@value #MIN_PLANNED} rows is suspect: a snapshot that predated a table rewrite reads the rewritten
 * table as empty, and its count and hash agree with what it wrote, so verification alone cannot tell.
 * The range is then counted again in a fresh statement (READ COMMITTED: its snapshot follows its lock).
 * The copy failed when that count finds at least half the plan and at least twice the rows the copy
 * read: rows deleted since planning leave both counts low (accepted), and concurrent inserts into the
 * range do not add half a segment between the copy and the count. A failed copy is a transient failure:
 * the segment is copied again from a clean range, and parked when the retries run out.
 */
public final class ShortCopy extends RetryableFailure {
  private static final Logger log = LoggerFactory.getLogger(ShortCopy.class);
  static final long MIN_PLANNED = 100;

  ShortCopy(long planned, long copied, long fresh) {
    super("the copy read " + copied + " of " + planned + " planned rows, but a fresh count of the range finds " + fresh
        + " (a snapshot older than a table rewrite?)");
  }

  /** Whether a copy that read {@code copied} rows of {@code planned} is counted again. */
  static boolean suspect(long planned, long copied) {
    return planned >= MIN_PLANNED && copied < planned / 2;
  }

  /** Whether a suspect copy failed, given a fresh count of its range. */
  static boolean failed(long planned, long copied, long fresh) {
    return fresh >= planned / 2 && fresh >= 2 * copied;
  }

  /** The copy's result, or a {@link ShortCopy} failure when a fresh count of a suspect copy's range finds it short (either path). */
  static Future<SegmentCopier.Result> recount(Pool source, SegmentSql sql, Segment seg, SegmentCopier.Result res) {
    if (res.cutAt() != null || !suspect(seg.rowsPlanned(), res.rows())) return Future.succeededFuture(res);
    SegmentSql.Statement st = sql.sourceCount(seg.range());
    return source.preparedQuery(st.sql()).execute(Tuple.tuple(st.params())).recover(SegmentCopier.SourceFailure::wrap).compose(rows -> {
      long fresh = rows.iterator().next().getLong(0);
      if (!failed(seg.rowsPlanned(), res.rows(), fresh)) {
        log.info("job {} segment {}: copied {} of {} planned rows; a fresh count finds {}: the range thinned out", seg.job(), seg.seq(),
            res.rows(), seg.rowsPlanned(), fresh);
        return Future.succeededFuture(res);
      }
      ShortCopy e = new ShortCopy(seg.rowsPlanned(), res.rows(), fresh);
      log.warn("job {} segment {}: {}; the attempt counts as failed and the range is copied again", seg.job(), seg.seq(), e.getMessage());
      return Future.failedFuture(e);
    });
  }
}
