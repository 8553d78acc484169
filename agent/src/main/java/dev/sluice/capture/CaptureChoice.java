package dev.sluice.capture;

import dev.sluice.config.JobConfig;

/**
 * Which capture a job gets, and why: pure. A job keeps the mode its capture was first installed in
 * (recorded in the ledger), whatever the config says later: switching a running job's capture would
 * leave a window where neither records changes. Otherwise {@code trigger} and {@code logical} are
 * taken as asked (logical only when the source allows it), and {@code auto} is logical when the
 * source allows it and the trigger otherwise.
 */
public record CaptureChoice(Mode mode, String reason, String refusal) {
  /** The capture a job runs with. */
  public enum Mode {
    TRIGGER("trigger"),
    LOGICAL("logical");

    private final String db;

    Mode(String db) {
      this.db = db;
    }

    /** The name in the config, the ledger ({@code jobs.capture_mode}) and the API. */
    public String db() {
      return db;
    }

    /** The mode a ledger value names, or null. */
    public static Mode of(String db) {
      for (Mode m : values()) if (m.db.equals(db)) return m;
      return null;
    }
  }

  /** True when the job cannot run as configured ({@code refusal} says why and what to change). */
  public boolean refused() {
    return refusal != null;
  }

  /**
   * {@code recorded}: the mode in the ledger (null for a job not started yet); {@code verdict}: what
   * the source allows (may be null when {@code requested} is trigger: not asked).
   */
  public static CaptureChoice resolve(JobConfig.CaptureMode requested, String recorded, LogicalCapability.Verdict verdict) {
    Mode kept = Mode.of(recorded);
    if (kept != null) {
      String why = "the job's capture was installed in " + kept.db() + " mode; it keeps it until the job is rolled back";
      if (kept == Mode.LOGICAL && verdict != null && !verdict.possible()) {
        return new CaptureChoice(kept, why, "the job captures from the WAL but the source no longer allows it: " + verdict.explain());
      }
      return new CaptureChoice(kept, why, null);
    }
    switch (requested) {
      case TRIGGER:
        return new CaptureChoice(Mode.TRIGGER, "capture.mode is trigger", null);
      case LOGICAL:
        if (verdict.possible()) return new CaptureChoice(Mode.LOGICAL, "capture.mode is logical", null);
        return new CaptureChoice(Mode.LOGICAL, "capture.mode is logical",
            "logical capture is not possible: " + verdict.explain() + " (or set capture.mode to trigger or auto)");
      default:
        if (verdict.possible()) return new CaptureChoice(Mode.LOGICAL, "capture.mode is auto and the source allows logical decoding", null);
        return new CaptureChoice(Mode.TRIGGER, "capture.mode is auto and logical capture is not possible: " + verdict.explain(), null);
    }
  }

  /** The same choice, its reason followed by {@code note}. */
  public CaptureChoice noting(String note) {
    return new CaptureChoice(mode, reason + "; " + note, refusal);
  }

  /** One line for {@code sluice validate} and the log. */
  public String describe() {
    return mode.db() + " (" + reason + ")";
  }
}
