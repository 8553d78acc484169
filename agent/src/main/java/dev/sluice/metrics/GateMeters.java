package dev.sluice.metrics;

import dev.sluice.config.SensorSpec;
import dev.sluice.health.HealthMonitor;
import dev.sluice.health.LockWatch;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Connects a job's gate and the agent's health sensors to the job's meters, so the throttle decision
 * (with its reason) and each sensor's value, threshold and age reach {@code /metrics} and the
 * dashboard's throttle panel. Reads only what the gate and the sensors already stored.
 */
public final class GateMeters {
  private GateMeters() {}

  /**
   * {@code waitingReason}: why the job waits now, or null while it runs. The metric's reason label is
   * {@code paused} (an operator paused it), {@code drift} (Sluice paused it: its schema or data
   * drifted), {@code slot} (its replication slot retains WAL past its pause level: {@code heldBySlot}),
   * {@code health} (a sensor over its threshold or stale), {@code lock} (only its statements waiting
   * for a lock hold it) or {@code gate} (a circuit breaker or a time window); the sentence goes to the
   * dashboard.
   */
  public static void bind(JobMeters meters, Supplier<String> waitingReason, BooleanSupplier paused, BooleanSupplier pausedForDrift,
      BooleanSupplier heldBySlot, HealthMonitor health, List<SensorSpec> sensors) {
    meters.throttleSource(() -> {
      String why = waitingReason.get();
      if (why == null || why.equals("starting")) return null;
      String code = paused.getAsBoolean() ? (pausedForDrift.getAsBoolean() ? "drift" : "paused")
          : heldBySlot.getAsBoolean() ? "slot"
          : health != null && health.decision() != null && health.decision().throttled() ? "health"
          : why.startsWith(LockWatch.REASON) ? "lock" : "gate";
      return new JobMeters.Throttle(true, code, why);
    });
    if (health == null) return;
    for (int i = 0; i < sensors.size(); i++) {
      int index = i;
      SensorSpec spec = sensors.get(i);
      meters.sensor(spec.id(), SensorMetric.of(spec.kind()), spec.database(), () -> reading(health.snapshot(), index, spec));
    }
  }

  /** A sensor without a reading yet, or whose last read failed, is unhealthy (sensors fail closed). */
  static JobMeters.SensorReading reading(JsonArray snapshot, int index, SensorSpec spec) {
    JsonObject j = index < snapshot.size() ? snapshot.getJsonObject(index) : new JsonObject();
    Object v = j.getValue("value");
    double value = v instanceof Number n ? n.doubleValue() : Double.NaN;
    Long ageMs = j.getLong("ageMs");
    Long successAgeMs = j.getLong("successAgeMs");
    // The threshold in force comes with the reading: a config reload may have changed it.
    double max = j.getValue("threshold") instanceof Number t ? t.doubleValue() : spec.max();
    boolean healthy = j.getString("error") == null && !Double.isNaN(value) && value <= max;
    // The foreground sensor has no threshold (it feeds the foreground control): exported as NaN.
    return new JobMeters.SensorReading(value, Double.isInfinite(max) ? null : max, spec.kind().unit,
        ageMs == null ? Double.NaN : ageMs / 1000.0, successAgeMs == null ? Double.NaN : successAgeMs / 1000.0, healthy);
  }
}
