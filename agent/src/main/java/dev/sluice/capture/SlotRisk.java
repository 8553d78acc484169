package dev.sluice.capture;

import java.util.Locale;

/**
 * How much of the source's WAL a job's slot may hold back, and what Sluice does as it grows: the
 * slot is the source's risk (WAL that a slot retains is kept on the source's disk until the slot's
 * reader confirms it). Pure: the retained size comes in as an argument.
 *
 * <pre>
 *   retained &lt; throttle            nothing
 *   throttle &lt;= retained &lt; pause  the job's copy slows: rate factor 1 - (1 - FLOOR) * (r - throttle) / (pause - throttle)
 *   pause &lt;= retained &lt; drop      the job's copy and applier wait (the reader keeps draining the slot)
 *   retained &gt;= drop, or lost    the slot is dropped: what it covered is re-verified instead
 * </pre>
 *
 * with {@code FLOOR = }{@value #FLOOR}. The copy and the applier are the job's own load on the source;
 * holding them leaves the source's I/O and CPU to the reader (and the users), which is what drains the
 * slot. The job's gate applies the decision (job.SlotVerdict), like a health sensor's. A slot the source itself invalidated ({@code wal_status}
 * lost, PostgreSQL's {@code max_slot_wal_keep_size}) is past saving: it is dropped too.
 */
public final class SlotRisk {
  static final double FLOOR = 0.1;

  private SlotRisk() {}

  /** The thresholds in bytes; each at least the one before. */
  public record Limits(long throttleBytes, long pauseBytes, long dropBytes) {
    public Limits {
      if (throttleBytes > pauseBytes || pauseBytes > dropBytes) {
        throw new IllegalArgumentException("slot limits must grow: throttle <= pause <= drop");
      }
    }
  }

  public enum Action {
    NONE,
    THROTTLE,
    PAUSE,
    DROP
  }

  /** What to do, the copy's rate factor, and why (null when nothing is done). */
  public record Decision(Action action, double rateFactor, String reason) {
    public static final Decision NONE = new Decision(Action.NONE, 1.0, null);

    /** True when the job's copy and applier must wait: pause, or a drop (until the new slot reads). */
    public boolean holds() {
      return action == Action.PAUSE || action == Action.DROP;
    }
  }

  public static Decision decide(Limits l, String slot, long retainedBytes, boolean lost) {
    if (lost) {
      return new Decision(Action.DROP, 0, "the source invalidated slot " + slot + " (max_slot_wal_keep_size): changes it held are lost");
    }
    String held = "slot " + slot + " retains " + mb(retainedBytes) + " of WAL";
    if (retainedBytes >= l.dropBytes()) {
      return new Decision(Action.DROP, 0, held + ", at or over its limit of " + mb(l.dropBytes()));
    }
    if (retainedBytes >= l.pauseBytes()) {
      return new Decision(Action.PAUSE, 0, held + " (pause at " + mb(l.pauseBytes()) + ", dropped at " + mb(l.dropBytes()) + ")");
    }
    if (retainedBytes >= l.throttleBytes()) {
      double span = Math.max(1, l.pauseBytes() - l.throttleBytes());
      double f = 1.0 - (1.0 - FLOOR) * (retainedBytes - l.throttleBytes()) / span;
      return new Decision(Action.THROTTLE, Math.max(FLOOR, f), held + " (throttle at " + mb(l.throttleBytes()) + ", pause at "
          + mb(l.pauseBytes()) + ")");
    }
    return Decision.NONE;
  }

  static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.0f MB", bytes / 1048576.0);
  }
}
