package dev.sluice.config;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the sections about pacing and safety: {@code health} (sensors and thresholds),
 * {@code breaker}, {@code sessions}, and a job's {@code schedule} and {@code abort}. Defaults are declared
 * with the records ({@link HealthConfig}, {@link SensorSpec}, {@link ForegroundConfig}, {@link BreakerConfig},
 * {@link SessionLimits}, {@link ScheduleConfig}, {@link JobConfig.Abort}); docs/config.md repeats them.
 */
final class PacingConfigLoader {

  private static final Pattern HHMM = Pattern.compile("([01]\\d|2[0-4]):([0-5]\\d)");
  private static final Map<String, DayOfWeek> DAYS = Map.of("mon", DayOfWeek.MONDAY, "tue", DayOfWeek.TUESDAY,
      "wed", DayOfWeek.WEDNESDAY, "thu", DayOfWeek.THURSDAY, "fri", DayOfWeek.FRIDAY, "sat", DayOfWeek.SATURDAY, "sun", DayOfWeek.SUNDAY);

  private PacingConfigLoader() {}

  /**
   * @param sameServer whether source and target are on one server (host and port): then Sluice's
   *     writes share the users' WAL, and the foreground probe ({@code auto}) times a commit
   */
  static HealthConfig health(ConfigNode n, boolean sameServer) {
    long interval = n.integer("intervalMs", HealthConfig.DEFAULT_INTERVAL_MS, 50, 600_000);
    long grace = n.integer("graceMs", HealthConfig.DEFAULT_GRACE_MS, 0, 3_600_000);
    long resume = n.integer("resumeAfterMs", HealthConfig.DEFAULT_RESUME_AFTER_MS, 0, 3_600_000);
    long timeout = n.integer("timeoutMs", HealthConfig.DEFAULT_TIMEOUT_MS, 100, 3_600_000);
    List<SensorSpec> sensors = new ArrayList<>();
    List<SensorSpec> foregroundSensors = new ArrayList<>();
    ForegroundConfig foreground = foreground(n.object("foreground", false), foregroundSensors, sameServer);
    for (SensorSpec.Kind kind : SensorSpec.Kind.values()) {
      if (kind == SensorSpec.Kind.FOREGROUND || kind == SensorSpec.Kind.FOREGROUND_PROBE) continue;
      boolean always = kind == SensorSpec.Kind.PROBE;
      if (!always && !n.has(kind.configName)) {
        n.object(kind.configName, false); // mark as known
        continue;
      }
      ConfigNode s = n.object(kind.configName, false);
      String db = kind == SensorSpec.Kind.LOAD_AVERAGE ? "host"
          : s.choice("database", "source", Map.of("source", "source", "target", "target"));
      long every = s.integer("intervalMs", interval, 50, 600_000);
      String sql = kind == SensorSpec.Kind.PROBE ? s.string("sql", SensorSpec.DEFAULT_PROBE_SQL, false) : null;
      if (sql != null && sql.isBlank()) s.problem("sql", "must be a query (default " + SensorSpec.DEFAULT_PROBE_SQL + ")");
      Double max = switch (kind) {
        case PROBE -> s.integer("maxMs", SensorSpec.DEFAULT_PROBE_MAX_MS, 1, 3_600_000).doubleValue();
        case REPLICATION_LAG, OLDEST_TRANSACTION -> s.number("maxSeconds", null, 0, 1e9);
        case WAL_RETAINED -> s.number("maxMegabytes", null, 0, 1e12);
        case ACTIVE_BACKENDS, LOCK_WAITERS -> nullable(s.integer("max", null, 0, 1_000_000));
        case LOAD_AVERAGE -> s.number("max", null, 0, 1e6);
        case FOREGROUND, FOREGROUND_PROBE -> throw new IllegalStateException("read by foreground()");
      };
      if (max == null && !always) s.problem(thresholdField(kind), "is required: the threshold above which jobs are throttled");
      s.rejectUnknown();
      if (max != null) sensors.add(new SensorSpec(kind, db, max, Duration.ofMillis(every), sql));
    }
    sensors.addAll(foregroundSensors); // after the probe, which stays the first sensor
    n.rejectUnknown();
    return new HealthConfig(List.copyOf(sensors), Duration.ofMillis(grace), Duration.ofMillis(resume), Duration.ofMillis(timeout),
        foreground);
  }

  /** {@code health.foreground}: on unless {@code enabled: false}; adds its two sensors to {@code sensors}. */
  private static ForegroundConfig foreground(ConfigNode f, List<SensorSpec> sensors, boolean sameServer) {
    boolean on = f.bool("enabled", true);
    String db = f.choice("database", "source", Map.of("source", "source", "target", "target"));
    String probe = f.choice("probe", "auto", Map.of("auto", "auto", "select", "select", "commit", "commit"));
    long every = f.integer("intervalMs", ForegroundConfig.DEFAULT_INTERVAL_MS, 50, 600_000);
    long quiet = f.integer("quietMs", ForegroundConfig.DEFAULT_QUIET_MS, 0, 3_600_000);
    double tolerance = f.number("probeTolerance", ForegroundConfig.DEFAULT_PROBE_TOLERANCE, 1.0, 1000);
    double min = f.number("minRateFactor", ForegroundConfig.DEFAULT_MIN_RATE_FACTOR, 0.001, 1);
    double start = f.number("startRateFactor", ForegroundConfig.DEFAULT_START_RATE_FACTOR, 0.001, 1);
    double throttle = f.number("throttleRatio", ForegroundConfig.DEFAULT_THROTTLE_RATIO, 1.0, 1000);
    if (start < min) f.problem("startRateFactor", "must be at least minRateFactor (" + min + ")");
    if (throttle < tolerance) f.problem("throttleRatio", "must be at least probeTolerance (" + tolerance + ")");
    f.rejectUnknown();
    if (!on) return null;
    sensors.add(new SensorSpec(SensorSpec.Kind.FOREGROUND, db, Double.POSITIVE_INFINITY, Duration.ofMillis(every), null));
    // A commit (which waits for its WAL flush) runs on the target, which Sluice writes anyway.
    boolean commit = probe.equals("commit") || (probe.equals("auto") && sameServer);
    sensors.add(new SensorSpec(SensorSpec.Kind.FOREGROUND_PROBE, commit ? "target" : db, Double.POSITIVE_INFINITY,
        Duration.ofMillis(every), commit ? SensorSpec.COMMIT_PROBE_SQL : SensorSpec.DEFAULT_PROBE_SQL));
    return new ForegroundConfig(Duration.ofMillis(quiet).toNanos(), tolerance, min, start, throttle);
  }

  private static Double nullable(Long v) {
    return v == null ? null : v.doubleValue();
  }

  private static String thresholdField(SensorSpec.Kind kind) {
    return switch (kind) {
      case PROBE -> "maxMs";
      case REPLICATION_LAG, OLDEST_TRANSACTION -> "maxSeconds";
      case WAL_RETAINED -> "maxMegabytes";
      default -> "max";
    };
  }

  static BreakerConfig breaker(ConfigNode n) {
    int failures = n.integer("failures", (long) BreakerConfig.DEFAULT_FAILURES, 1, 1000).intValue();
    long open = n.integer("openMs", BreakerConfig.DEFAULT_OPEN_MS, 10, 3_600_000);
    long maxOpen = n.integer("maxOpenMs", BreakerConfig.DEFAULT_MAX_OPEN_MS, 10, 3_600_000);
    if (maxOpen < open) n.problem("maxOpenMs", "must be at least openMs (" + open + ")");
    n.rejectUnknown();
    return new BreakerConfig(failures, Duration.ofMillis(open), Duration.ofMillis(Math.max(open, maxOpen)));
  }

  static SessionLimits sessions(ConfigNode n) {
    long st = n.integer("statementTimeoutMs", SessionLimits.DEFAULT_STATEMENT_TIMEOUT_MS, 0, 86_400_000);
    long idle = n.integer("idleInTransactionTimeoutMs", SessionLimits.DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS, 0, 86_400_000);
    long stall = n.integer("stallTimeoutMs", SessionLimits.DEFAULT_STALL_TIMEOUT_MS, SessionLimits.MIN_STALL_TIMEOUT_MS, 86_400_000);
    long nice = n.integer("nice", (long) SessionLimits.DEFAULT_NICE, 0, 19);
    n.rejectUnknown();
    return new SessionLimits(Duration.ofMillis(st), Duration.ofMillis(idle), Duration.ofMillis(stall), (int) nice);
  }

  static ScheduleConfig schedule(ConfigNode n) {
    String zoneName = n.string("timeZone", ScheduleConfig.DEFAULT_TIME_ZONE, false);
    ZoneId zone = ZoneId.of(ScheduleConfig.DEFAULT_TIME_ZONE);
    try {
      zone = ZoneId.of(zoneName);
    } catch (DateTimeException e) {
      n.problem("timeZone", "unknown time zone \"" + zoneName + "\" (use a region such as Europe/Paris, or UTC)");
    }
    List<ScheduleConfig.Window> windows = new ArrayList<>();
    List<ConfigNode> nodes = n.objects("windows", n.isObject());
    if (nodes.isEmpty() && n.has("windows")) n.problem("windows", "must list at least one window (or leave schedule out)");
    for (ConfigNode w : nodes) {
      Set<DayOfWeek> days = EnumSet.allOf(DayOfWeek.class);
      if (w.has("days")) {
        days = EnumSet.noneOf(DayOfWeek.class);
        for (String d : w.strings("days", false)) {
          DayOfWeek day = DAYS.get(d.toLowerCase());
          if (day == null) w.problem("days", "unknown day \"" + d + "\" (use mon, tue, wed, thu, fri, sat, sun)");
          else days.add(day);
        }
        if (days.isEmpty()) w.problem("days", "must list at least one day");
      } else {
        w.strings("days", false);
      }
      Integer start = minutes(w, "start", false);
      Integer end = minutes(w, "end", true);
      w.rejectUnknown();
      if (start != null && end != null && !days.isEmpty()) {
        if (start.equals(end)) w.problem("end", "must differ from start (for all day, use 00:00 to 24:00)");
        else windows.add(new ScheduleConfig.Window(days, start, end));
      }
    }
    n.rejectUnknown();
    return windows.isEmpty() ? ScheduleConfig.ALWAYS : new ScheduleConfig(windows, zone);
  }

  private static Integer minutes(ConfigNode n, String field, boolean allow24) {
    String s = n.string(field, null, true);
    if (s == null) return null;
    Matcher m = HHMM.matcher(s);
    int v = m.matches() ? Integer.parseInt(m.group(1)) * 60 + Integer.parseInt(m.group(2)) : -1;
    if (v < 0 || v > 1440 || (v == 1440 && !allow24)) {
      n.problem(field, "must be a time HH:MM between 00:00 and " + (allow24 ? "24:00" : "23:59") + " (got \"" + s + "\")");
      return null;
    }
    return v;
  }

  static JobConfig.Abort abort(ConfigNode n) {
    Long maxFailed = n.integer("maxFailedSegments", null, 0, 100_000_000);
    Double percent = n.number("maxFailedPercent", null, 0, 100);
    int minFinished = n.integer("minFinishedSegments", (long) JobConfig.Abort.DEFAULT_MIN_FINISHED, 1, 100_000_000).intValue();
    n.rejectUnknown();
    if (maxFailed == null && percent == null) return JobConfig.Abort.NONE;
    return new JobConfig.Abort(maxFailed == null ? null : maxFailed.intValue(), percent == null ? null : percent / 100.0, minFinished);
  }
}
