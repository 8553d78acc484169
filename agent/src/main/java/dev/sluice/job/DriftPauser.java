package dev.sluice.job;

/**
 * The parts of Sluice that pause a job by themselves, when its schema or its data drift, each named in
 * the reason the job shows ("paused by the drift monitor: schema drift: ..."). Any other pause is an
 * operator's ("paused by api (10.0.0.7): busy hour"); the {@code sluice_throttled} reason label tells
 * the two apart ({@code drift}, {@code paused}).
 */
public enum DriftPauser {
  /** The catalogs of the two tables drifted apart (a column added, dropped or retyped). */
  DRIFT_MONITOR("the drift monitor"),
  /** The final verification found drift it cannot repair. */
  FINAL_VERIFICATION("the final verification"),
  /** A segment holds a value the target type cannot hold. */
  COPY("the copy (data drift)");

  private final String actor;

  DriftPauser(String actor) {
    this.actor = actor;
  }

  /** As recorded in {@code sluice.jobs.paused_by} and shown after "paused by". */
  public String actor() {
    return actor;
  }

  /** Whether a recorded pauser ({@code paused_by}) is one of these, on this agent or another. */
  public static boolean named(String actor) {
    for (DriftPauser p : values()) {
      if (p.actor.equals(actor)) return true;
    }
    return false;
  }
}
