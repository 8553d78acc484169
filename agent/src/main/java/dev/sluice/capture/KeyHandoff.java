package dev.sluice.capture;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Where the WAL reader may hand the keys it read straight to the job's applier, instead of recording
 * them in the changelog for the applier to read back ({@link DirectKeys}). Called on the reader's
 * thread, and blocks it.
 */
public interface KeyHandoff {
  /** Takes nothing: every key goes to the changelog. */
  KeyHandoff NONE = (keys, stopping, alive) -> false;

  /**
   * True once every key (with its change's commit time, PostgreSQL microseconds) is handled for good:
   * applied to the target, dropped (its segment is not copied yet), or recorded in the changelog.
   * False when the keys were not taken, or their handling failed: the caller records them. While it
   * waits it runs {@code alive} about once a second (the reader keeps its stream alive), and it gives
   * up once {@code stopping} says so.
   */
  boolean handle(Map<List<String>, Long> keys, BooleanSupplier stopping, Runnable alive) throws InterruptedException;
}
