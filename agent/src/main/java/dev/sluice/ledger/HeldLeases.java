package dev.sluice.ledger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The segment leases this agent is working on right now. The heartbeat renews only these, never
 * "every segment the ledger says I own": a segment whose worker is gone (an error the worker could
 * not record, say) is not kept alive forever, its lease expires and another agent takes it over.
 * Thread-safe: workers of several jobs add and drop entries from several event loops.
 */
public final class HeldLeases {
  /** One lease: a segment at the epoch this agent claimed it with. */
  public record Lease(String job, int seq, long epoch) {
    static Lease of(Segment s) {
      return new Lease(s.job(), s.seq(), s.epoch());
    }
  }

  private final Map<Lease, Boolean> held = new ConcurrentHashMap<>();

  void hold(Segment s) {
    held.put(Lease.of(s), Boolean.FALSE);
  }

  /** The worker is done with the segment (whatever the outcome): stop renewing its lease. */
  public void drop(Segment s) {
    held.remove(Lease.of(s));
  }

  /**
   * Records that the lease is lost (expired or taken over). Returns true the first time for a lease
   * still held, so the loss is reported once however many writes find it out.
   */
  public boolean markLost(Lease l) {
    return held.replace(l, Boolean.FALSE, Boolean.TRUE);
  }

  public boolean markLost(Segment s) {
    return markLost(Lease.of(s));
  }

  /** Leases held and not known to be lost. */
  public List<Lease> live() {
    List<Lease> out = new ArrayList<>();
    held.forEach((l, lost) -> {
      if (!lost) out.add(l);
    });
    return out;
  }

  public int count(String job) {
    int n = 0;
    for (Map.Entry<Lease, Boolean> e : held.entrySet()) if (!e.getValue() && e.getKey().job().equals(job)) n++;
    return n;
  }
}
