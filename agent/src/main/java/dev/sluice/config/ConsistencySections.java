package dev.sluice.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a job's consistency sections: {@code capture}, {@code verify}, {@code drift} and
 * {@code rollback}. Kept apart from {@link ConfigLoader}; the defaults are declared with the records
 * ({@link JobConfig.Capture} and the others) and repeated in docs/config.md.
 */
final class ConsistencySections {
  private static final Pattern CHECK_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,60}");

  private ConsistencySections() {}

  static JobConfig.Capture capture(ConfigNode n) {
    boolean enabled = n.bool("enabled", true);
    // The default is auto, unless the installation sets another in SLUICE_CAPTURE_MODE.
    String env = Env.get(JobConfig.Capture.MODE_ENV);
    JobConfig.CaptureMode dflt = env == null || env.isBlank() ? JobConfig.CaptureMode.AUTO : captureModes().get(env.trim());
    if (dflt == null) {
      n.problem("mode", "the environment's " + JobConfig.Capture.MODE_ENV + " must be one of " + captureModes().keySet() + " (got \""
          + env + "\")");
      dflt = JobConfig.CaptureMode.AUTO;
    }
    JobConfig.CaptureMode mode = n.choice("mode", dflt, captureModes());
    int batch = n.integer("batchRows", (long) JobConfig.Capture.DEFAULT_BATCH_ROWS, 1, 100_000).intValue();
    long poll = n.integer("pollMs", JobConfig.Capture.DEFAULT_POLL_MS, 10, 600_000);
    long inSync = n.integer("inSyncRows", JobConfig.Capture.DEFAULT_IN_SYNC_ROWS, 0, 100_000_000);
    long throttle = n.integer("slotThrottleMb", JobConfig.SlotLimits.DEFAULT_THROTTLE_MB, 1, 10_000_000);
    long pause = n.integer("slotPauseMb", Math.max(throttle, JobConfig.SlotLimits.DEFAULT_PAUSE_MB), 1, 10_000_000);
    long drop = n.integer("slotDropMb", Math.max(pause, JobConfig.SlotLimits.DEFAULT_DROP_MB), 1, 10_000_000);
    if (throttle > pause) n.problem("slotPauseMb", "must be at least slotThrottleMb (" + throttle + ")");
    if (pause > drop) n.problem("slotDropMb", "must be at least slotPauseMb (" + pause + ")");
    n.rejectUnknown();
    return new JobConfig.Capture(enabled, mode, batch, Duration.ofMillis(poll), inSync, new JobConfig.SlotLimits(throttle, pause, drop));
  }

  private static java.util.Map<String, JobConfig.CaptureMode> captureModes() {
    java.util.Map<String, JobConfig.CaptureMode> m = new java.util.LinkedHashMap<>();
    m.put("auto", JobConfig.CaptureMode.AUTO);
    m.put("trigger", JobConfig.CaptureMode.TRIGGER);
    m.put("logical", JobConfig.CaptureMode.LOGICAL);
    return m;
  }

  static JobConfig.Verify verify(ConfigNode n) {
    boolean finalPass = n.bool("finalPass", true);
    boolean perSegment = n.bool("perSegment", true);
    double rate = n.number("sampleRate", JobConfig.Verify.DEFAULT_SAMPLE_RATE, 0, 1);
    List<JobConfig.Check> checks = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ConfigNode c : n.objects("checks", false)) {
      String name = c.string("name", null, true);
      String source = c.string("source", null, true);
      String target = c.string("target", null, false);
      c.rejectUnknown();
      if (name != null && !CHECK_NAME.matcher(name).matches()) c.problem("name", "must match [A-Za-z0-9_.-]{1,60} (got \"" + name + "\")");
      if (name != null && !names.add(name)) c.problem("name", "duplicate check name \"" + name + "\"");
      if (source != null && source.isBlank()) c.problem("source", "must be a SQL query");
      if (name != null && source != null) checks.add(new JobConfig.Check(name, source.trim(), target == null ? source.trim() : target.trim()));
    }
    n.rejectUnknown();
    return new JobConfig.Verify(finalPass, perSegment, rate, List.copyOf(checks));
  }

  static JobConfig.Drift drift(ConfigNode n) {
    boolean enabled = n.bool("enabled", true);
    long interval = n.integer("intervalMs", JobConfig.Drift.DEFAULT_INTERVAL_MS, 100, 3_600_000);
    double threshold = n.number("nullRatioThreshold", JobConfig.Drift.DEFAULT_NULL_RATIO_THRESHOLD, 0, 1);
    n.rejectUnknown();
    return new JobConfig.Drift(enabled, Duration.ofMillis(interval), threshold);
  }

  static JobConfig.Rollback rollback(ConfigNode n) {
    boolean onAbort = n.bool("onAbort", false);
    Double rate = n.number("rowsPerSecond", null, 1e-9, 1e9);
    n.rejectUnknown();
    return new JobConfig.Rollback(onAbort, rate);
  }
}
