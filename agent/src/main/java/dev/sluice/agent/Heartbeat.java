package dev.sluice.agent;

import dev.sluice.config.AgentConfig;
import dev.sluice.health.HealthMonitor;
import dev.sluice.health.Throttler;
import dev.sluice.job.Migrator;
import dev.sluice.job.SlotVerdict;
import dev.sluice.ledger.HeldLeases;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's heartbeat, every {@code agent.heartbeatSeconds}: renews this agent's leases, publishes
 * its figures and its own health verdict per job, and gives each job what the ledger says about the
 * fleet (how many agents share the budget, an operator's budget, the others' verdicts). One heartbeat
 * at a time: a slow ledger must not pile them up, unless one has hung for a whole lease term (its
 * leases are lost anyway; a fresh one at least keeps the agent's liveness honest).
 */
final class Heartbeat {
  private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

  private final Vertx vertx;
  private final Ledger ledger;
  private final AgentConfig agent;
  private final HealthMonitor health;
  private final Map<String, Migrator> jobs;
  private final LongSupplier nanos;
  private long timer = -1;
  private volatile boolean beating;
  private volatile long startedNanos;
  private volatile boolean healthSettled;

  /** {@code health} null: no sensors (nothing to publish but figures). */
  Heartbeat(Vertx vertx, Ledger ledger, AgentConfig agent, HealthMonitor health, Map<String, Migrator> jobs, LongSupplier nanos) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.agent = agent;
    this.health = health;
    this.jobs = jobs;
    this.nanos = nanos;
  }

  void start() {
    timer = vertx.setPeriodic(agent.heartbeat().toMillis(), t -> {
      if (!beating || nanos.getAsLong() - startedNanos > agent.lease().toNanos()) beat();
    });
  }

  void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  /** One heartbeat. */
  Future<Void> beat() {
    beating = true;
    startedNanos = nanos.getAsLong();
    // This agent's own health verdict (never the combined one, or verdicts would echo between agents).
    // A throttle is published only once the sensors have been healthy: "sensors starting" on an agent
    // that joins must not stall the others.
    Throttler.Decision verdict = health == null ? null : health.decision();
    if (verdict != null && !verdict.throttled()) healthSettled = true;
    boolean throttled = verdict != null && healthSettled && verdict.throttled();
    List<Roster.JobFigures> figures = new ArrayList<>();
    Throttler.Decision own = new Throttler.Decision(throttled, throttled ? verdict.reason() : null, verdict == null ? 1.0 : verdict.rateFactor(),
        null);
    for (Migrator m : jobs.values()) {
      // The job's slot (on the agent that reads it) holds or slows the job's other agents too.
      Throttler.Decision v = SlotVerdict.combine(own, m.slotDecision());
      figures.add(new Roster.JobFigures(m.name(), m.stats().rows(), m.stats().rowsPerSecond(), m.budget().shareRowsPerSecond(),
          v.throttled(), v.reason(), v.rateFactor()));
    }
    return ledger.roster().heartbeat(agent.lease(), figures)
        .onSuccess(beat -> {
          for (HeldLeases.Lease l : beat.lost()) {
            log.warn("job {} segment {}: lease (epoch {}) not renewed: it expired or another agent took it over", l.job(), l.seq(), l.epoch());
          }
          beat.jobs().forEach((job, view) -> {
            Migrator m = jobs.get(job);
            if (m == null) return;
            int n = view.sharing();
            if (m.budget().agents() != n && m.budget().rowsPerSecond() != null) {
              log.info("job {}: {} agent(s) share the budget of {} rows/s; this agent's share is {} rows/s", job, n,
                  m.budget().rowsPerSecond(), Math.round(m.budget().rowsPerSecond() / n));
            }
            m.fleetView(view);
          });
        })
        .onFailure(e -> log.warn("heartbeat failed (leases not renewed): {}", ErrorClassifier.describe(e)))
        .eventually(() -> {
          beating = false;
          return Future.succeededFuture();
        })
        .mapEmpty();
  }
}
