package dev.sluice.job;

import dev.sluice.ledger.Roster;
import dev.sluice.health.Throttler;

/**
 * A job's health decision when several agents run it: this agent's throttler combined with the other
 * live agents' verdicts from the ledger. Throttled if any of them is (this agent's reason first, then
 * theirs, each naming its agent); the rate factor is the lowest. Pure.
 */
public final class SharedVerdict {
  /** The decision of an agent without sensors. */
  public static final Throttler.Decision HEALTHY = new Throttler.Decision(false, null, 1.0, null);

  private SharedVerdict() {}

  public static Throttler.Decision combine(Throttler.Decision own, Roster.FleetHealth others) {
    if (others == null || (!others.throttled() && others.rateFactor() >= own.rateFactor())) return own;
    double factor = Math.min(own.rateFactor(), others.rateFactor());
    String headroom = own.headroom();
    if (others.rateFactor() < own.rateFactor()) {
      headroom = String.format(java.util.Locale.ROOT, "rate at %d%%: another agent's sensors", Math.round(factor * 100));
    }
    if (own.throttled()) {
      String reason = others.throttled() ? own.reason() + "; " + others.reason() : own.reason();
      return new Throttler.Decision(true, reason, factor, headroom);
    }
    if (others.throttled()) return new Throttler.Decision(true, others.reason(), factor, headroom);
    return new Throttler.Decision(false, null, factor, headroom);
  }
}
