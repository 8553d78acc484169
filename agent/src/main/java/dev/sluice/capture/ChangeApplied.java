package dev.sluice.capture;

import io.vertx.core.Future;
import java.util.List;

/**
 * Told about keys the applier is about to make equal to the source, before the change counts as
 * applied (e.g. a read cache drops them). A failure stops the batch: it is retried, not lost.
 */
@FunctionalInterface
public interface ChangeApplied {
  /** {@code keys}: source key values as text, one list per key. */
  Future<Void> beforeApplied(String job, List<List<String>> keys);
}
