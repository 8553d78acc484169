package dev.sluice.config;

import java.time.Duration;
import java.util.Locale;

/**
 * A configured sensor: what it measures ({@link Kind}), on which database ({@code source} or
 * {@code target}), how often, and its threshold: above {@code max} the job is throttled.
 * {@code sql} is only used by the probe. The foreground sensor has no threshold ({@code max} infinite):
 * its readings feed the foreground control (pace.ForegroundPace) controller instead.
 */
public record SensorSpec(Kind kind, String database, double max, Duration interval, String sql) {
  public static final String DEFAULT_PROBE_SQL = "SELECT 1";
  public static final long DEFAULT_PROBE_MAX_MS = 1_000;
  /** The foreground probe when Sluice shares the users' WAL: a commit, which waits for its flush. */
  public static final String COMMIT_PROBE_SQL = "SELECT txid_current()";

  /** The sensors Sluice knows, with the operator's name for each and the unit of its reading. */
  public enum Kind {
    PROBE("probe", "probe latency", "ms"),
    REPLICATION_LAG("replicationLag", "replication lag", "s"),
    ACTIVE_BACKENDS("activeBackends", "active backends", ""),
    LOCK_WAITERS("lockWaiters", "backends waiting on locks", ""),
    OLDEST_TRANSACTION("oldestTransaction", "oldest transaction", "s"),
    WAL_RETAINED("walRetained", "WAL retained by slots", "MB"),
    LOAD_AVERAGE("loadAverage", "host load average", ""),
    FOREGROUND("foreground", "foreground sessions", ""),
    FOREGROUND_PROBE("foregroundProbe", "foreground probe", "ms");

    public final String configName;
    public final String label;
    public final String unit;

    Kind(String configName, String label, String unit) {
      this.configName = configName;
      this.label = label;
      this.unit = unit;
    }
  }

  /** Unique name of this sensor, e.g. {@code lockWaiters@target}. */
  public String id() {
    return kind.configName + "@" + database;
  }

  /** "replication lag on source", "host load average" (the host is not a database). */
  public String label() {
    return kind == Kind.LOAD_AVERAGE ? kind.label : kind.label + " on " + database;
  }

  public String format(double v) {
    String n = switch (kind.unit) {
      case "s" -> String.format(Locale.ROOT, "%.1f", v);
      case "" -> v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
      default -> String.valueOf(Math.round(v));
    };
    return kind.unit.isEmpty() ? n : n + " " + kind.unit;
  }
}
