package dev.sluice.capture;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * What a job's capture from the WAL shows on one agent: whether this agent reads the slot, and if it
 * does, the keys it records per second, how far behind the source's commits it is, the WAL the slot
 * retains and the decision on it ({@link SlotRisk}), and why its reader last failed (null: never
 * since this agent started; e.g. a stalled stream). The same figures go to {@code GET /api/jobs},
 * the dashboard and {@code /metrics}.
 */
public record WalFigures(String slot, boolean readHere, boolean reading, double keysPerSecond, double lagSeconds, Long retainedBytes,
    SlotRisk.Decision decision, String lastReaderError) {
  /** A job in logical mode whose slot another agent reads. */
  public static WalFigures elsewhere(String slot) {
    return new WalFigures(slot, false, false, Double.NaN, Double.NaN, null, SlotRisk.Decision.NONE, null);
  }

  public JsonObject json() {
    JsonObject j = new JsonObject().put("mode", "logical").put("slot", slot).put("readHere", readHere);
    if (!readHere) return j;
    return j.put("reading", reading).put("keysPerSecond", round(keysPerSecond)).put("lagSeconds", round(lagSeconds))
        .put("retainedBytes", retainedBytes).put("slotAction", decision.action().name().toLowerCase(Locale.ROOT))
        .put("slotReason", decision.reason()).put("lastReaderError", lastReaderError);
  }

  private static Double round(double d) {
    return Double.isNaN(d) || Double.isInfinite(d) ? null : Math.round(d * 10) / 10.0;
  }
}
