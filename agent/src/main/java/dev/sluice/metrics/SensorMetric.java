package dev.sluice.metrics;

import dev.sluice.config.SensorSpec;

/**
 * The Prometheus gauges of one sensor kind: one metric a kind, in base units (seconds, bytes, or a
 * count), so no series ever mixes milliseconds, seconds and megabytes under one name. A sensor reads
 * in its operator's unit (probe latency in ms, WAL retained in MB, as configured and shown on the
 * dashboard); {@link #toBase} converts. Names: {@code sluice_sensor_<kind>[_<unit>]} for the reading and
 * {@code sluice_sensor_<kind>_threshold[_<unit>]} for the threshold in force.
 */
public record SensorMetric(String kind, String unit, double factor, String description) {

  /** The metric of a configured sensor kind. */
  public static SensorMetric of(SensorSpec.Kind kind) {
    return switch (kind) {
      case PROBE -> new SensorMetric("probe", "seconds", 0.001, "Latency of the probe query");
      case REPLICATION_LAG -> new SensorMetric("replication_lag", "seconds", 1, "Replication lag");
      case ACTIVE_BACKENDS -> new SensorMetric("active_backends", "", 1, "Client backends in state active");
      case LOCK_WAITERS -> new SensorMetric("lock_waiters", "", 1, "Backends waiting on a lock");
      case OLDEST_TRANSACTION -> new SensorMetric("oldest_transaction", "seconds", 1, "Age of the oldest transaction holding an xid or xmin");
      case WAL_RETAINED -> new SensorMetric("wal_retained", "bytes", 1024 * 1024, "WAL retained by the replication slot furthest behind");
      case LOAD_AVERAGE -> new SensorMetric("load_average", "", 1, "1-minute load average of the agent's host");
      case FOREGROUND -> new SensorMetric("foreground_sessions", "", 1, "Other sessions in a transaction now (the foreground control's input)");
      case FOREGROUND_PROBE -> new SensorMetric("foreground_probe", "seconds", 0.001, "Latency of the foreground control's probe");
    };
  }

  /** {@code sluice.sensor.probe.seconds} (Micrometer's name; Prometheus: {@code sluice_sensor_probe_seconds}). */
  public String valueName() {
    return "sluice.sensor." + kind.replace('_', '.') + (unit.isEmpty() ? "" : "." + unit);
  }

  public String thresholdName() {
    return "sluice.sensor." + kind.replace('_', '.') + ".threshold" + (unit.isEmpty() ? "" : "." + unit);
  }

  /** The Prometheus name of the reading's gauge. */
  public String prometheusName() {
    return valueName().replace('.', '_');
  }

  public String thresholdDescription() {
    return "Threshold of the sensor (" + description.toLowerCase(java.util.Locale.ROOT) + ") above which the job is throttled; NaN: none";
  }

  /** A reading in the sensor's own unit, in base units. */
  public double toBase(double reading) {
    return reading * factor;
  }
}
