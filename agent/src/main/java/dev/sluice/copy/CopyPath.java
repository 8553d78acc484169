package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;

/**
 * How one job's segments move and how a moved segment is proved: the COPY protocol
 * ({@link CopyEngine}), batches of rows through the agent or one server-side statement
 * ({@link SegmentCopier}, with the SQL fingerprint). A segment run calls only this, whichever path
 * the job took ({@link PathChoice} chose it when the job started).
 *
 * <p>{@link #copy} returns the source side's count and hash from the copy's own read;
 * {@link #target} reads the target range's stored rows and hashes them the same way, so the two
 * compare only within one path.
 */
public interface CopyPath extends AutoCloseable {
  /** Rows and the sum of their hashes (mod 2^64), as this path counts them. */
  record Sum(long rows, long hash) {
    public String describe() {
      return rows + " rows, hash " + Long.toHexString(hash);
    }
  }

  /** Copies a segment; {@code purgeFirst} clears what an earlier attempt left in the target range, in the copy's transaction. */
  Future<SegmentCopier.Result> copy(Segment seg, boolean purgeFirst);

  /** The target range's stored rows, hashed as {@link #copy} hashed the source's. */
  Future<Sum> target(KeyRange range);

  /** The path that was chosen, and why (what {@code validate} says). */
  PathChoice choice();

  /** One statement per segment inside one database: it cannot be cut part way, so an overlong one is split instead. */
  default boolean serverSide() {
    return choice().kind() == PathChoice.Kind.SERVER_SIDE;
  }

  /**
   * Gets ready for the first segment while the job plans (the COPY path opens a session to each side,
   * in the background). Best effort: what fails here, the first segment meets and reports.
   */
  default void warm() {}

  /** Lets go of what the path holds (the COPY path's sessions and worker threads). */
  @Override
  default void close() {}
}
