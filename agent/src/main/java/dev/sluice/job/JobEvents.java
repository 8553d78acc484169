package dev.sluice.job;

import dev.sluice.resilience.ErrorClass;

/**
 * What a job tells those who watch it as it works (the job's meters): a port, so that {@code job}
 * never imports what observes it. The composition root connects them ({@link Migrator#observe}).
 */
public interface JobEvents {
  /** One batch (or one server-side segment copy) of {@code rows} rows written in {@code nanos}. */
  void batchWritten(long rows, long nanos);

  /** An error met while copying a segment, by class. */
  void error(ErrorClass cls);
}
