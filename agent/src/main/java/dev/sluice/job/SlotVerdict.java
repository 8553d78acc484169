package dev.sluice.job;

import dev.sluice.capture.SlotRisk;
import dev.sluice.health.Throttler;
import java.util.Locale;

/**
 * A job's health decision with its replication slot's ({@link SlotRisk}) folded in, the way a sensor's
 * is: a slot over its pause level holds the job (the reason is the slot's), one between its throttle
 * and pause levels lowers the rate factor when it is the tightest, and says so in the headroom
 * sentence. The heartbeat publishes the result, so the other agents of the job hold or slow with it.
 * Pure.
 */
public final class SlotVerdict {
  private SlotVerdict() {}

  public static Throttler.Decision combine(Throttler.Decision d, SlotRisk.Decision slot) {
    if (slot == null || slot.action() == SlotRisk.Action.NONE) return d;
    if (slot.holds()) {
      String reason = d.throttled() ? slot.reason() + "; " + d.reason() : slot.reason();
      return new Throttler.Decision(true, reason, d.rateFactor(), d.headroom());
    }
    if (slot.rateFactor() >= d.rateFactor()) return d;
    String headroom = String.format(Locale.ROOT, "rate at %d%%: %s", Math.round(slot.rateFactor() * 100), slot.reason());
    return new Throttler.Decision(d.throttled(), d.reason(), slot.rateFactor(), headroom);
  }
}
