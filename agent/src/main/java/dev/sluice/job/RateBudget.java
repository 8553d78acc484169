package dev.sluice.job;

import dev.sluice.config.JobConfig;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
import dev.sluice.pace.AdaptivePace;
import dev.sluice.resilience.ErrorClassifier;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which rate budget is in force for one job on this agent, and this agent's share of it. Three
 * sources, in this order: an operator's budget (set through any agent, kept in the ledger), the
 * configured {@code pace}; either is divided among the live agents sharing the job (read by each
 * heartbeat). A reloaded config whose pace changed is in force again over an operator's budget, on
 * every agent. The share goes to the job's {@link AdaptivePace} as its base rate.
 */
final class RateBudget {
  private static final Logger log = LoggerFactory.getLogger(RateBudget.class);

  private final String job;
  private final AdaptivePace pace;
  private final Ledger ledger;
  private volatile RateShare budget;
  private volatile boolean overridden;
  private volatile Roster.FleetHealth fleetHealth = Roster.FleetHealth.NONE;

  RateBudget(String job, JobConfig.Pace configured, AdaptivePace pace, Ledger ledger) {
    this.job = job;
    this.pace = pace;
    this.ledger = ledger;
    this.budget = new RateShare(configured.rowsPerSecond(), configured.burstRows(), 1);
  }

  /** The job's budget and this agent's share of it. */
  RateShare current() {
    return budget;
  }

  /** The other live agents' health verdicts on this job, as of this agent's last heartbeat. */
  Roster.FleetHealth fleetHealth() {
    return fleetHealth;
  }

  /** A reloaded config: when its pace changed, it is in force again, over an operator's budget, on every agent. */
  void configChanged(JobConfig.Pace before, JobConfig.Pace after) {
    if (Objects.equals(before, after)) return;
    overridden = false;
    set(after.rowsPerSecond(), after.burstRows());
    ledger.roster().clearBudget(job, "config reloaded on agent " + ledger.agentId())
        .onFailure(e -> log.warn("job {}: cannot drop the operator's budget in the ledger: {}", job, ErrorClassifier.describe(e)));
  }

  /** How many agents share the budget (this one included); this agent takes its share. */
  void share(int agents) {
    apply(budget.withAgents(agents));
  }

  /** The job's budget (all agents together) changes live; this agent takes its share. */
  void set(Double rowsPerSecond, long burstRows) {
    apply(new RateShare(rowsPerSecond, burstRows, budget.agents()));
  }

  /** An operator set the job's budget through this agent (the ledger has it for the other agents). */
  void override(Double rowsPerSecond, long burstRows) {
    overridden = true;
    set(rowsPerSecond, burstRows);
  }

  /**
   * What this agent's heartbeat read about the job: how many agents share the budget, the operator's
   * budget if one is set (through any agent), and the other agents' health verdicts.
   */
  void fleetView(Roster.JobView v, JobConfig.Pace configured) {
    Roster.Budget b = v.budget();
    if (b != null && (!overridden || !Objects.equals(b.rowsPerSecond(), budget.rowsPerSecond()) || b.burstRows() != budget.burstRows())) {
      log.info("job {}: rate budget {} set by {} (through the ledger)", job,
          b.rowsPerSecond() == null ? "unpaced" : Math.round(b.rowsPerSecond()) + " rows/s", b.actor());
      overridden = true;
      apply(new RateShare(b.rowsPerSecond(), b.burstRows(), v.sharing()));
    } else if (b == null && overridden) {
      log.info("job {}: the operator's rate budget is dropped; the config's pace is in force", job);
      overridden = false;
      apply(new RateShare(configured.rowsPerSecond(), configured.burstRows(), v.sharing()));
    } else {
      share(v.sharing());
    }
    fleetHealth = v.others();
  }

  private synchronized void apply(RateShare b) {
    budget = b;
    pace.setBaseRate(b.shareRowsPerSecond(), b.shareBurstRows());
  }
}
