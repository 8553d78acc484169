package dev.sluice.cache;

import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.ReadPathLedger;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a job's read rollout the same on every agent, with the ledger's audit trail as the channel:
 * a share set or a pause made on one agent ({@code reads.target_percent}, {@code reads.paused}
 * events) is followed by the others within a second. At start, a pause recorded after the last share
 * was set stays in force: a restart never undoes a shadow-mode pause; otherwise the config's share
 * applies.
 */
public final class RolloutSync {
  private static final Logger log = LoggerFactory.getLogger(RolloutSync.class);
  static final long POLL_MS = 1000;
  static final String SET = "reads.target_percent";
  static final String PAUSED = "reads.paused";

  private final Vertx vertx;
  private final Ledger ledger;
  private final String job;
  private final Rollout rollout;
  private long after = -1;
  private long timer = -1;
  private boolean polling;

  public RolloutSync(Vertx vertx, Ledger ledger, String job, Rollout rollout) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.job = job;
    this.rollout = rollout;
  }

  /**
   * Restores a pause still in force, then follows other agents' changes. Until the history is read,
   * every read goes to the source.
   */
  public Future<Void> start() {
    int configured = rollout.targetPercent();
    rollout.pause("starting: reading the rollout's history from the ledger");
    return ReadPathLedger.rolloutHistory(ledger.pool(), job, SET, PAUSED)
        .map(h -> {
          after = h.lastEventId();
          String latest = h.latest();
          rollout.setTargetPercent(configured);
          if (latest != null && latest.startsWith("(" + PAUSED + ",")) {
            String why = h.lastPause();
            rollout.pause(why);
            log.warn("job {}: the read rollout stays paused after the restart ({}); set reads.targetPercent to resume", job, why);
          }
          timer = vertx.setPeriodic(POLL_MS, t -> poll());
          return (Void) null;
        })
        .recover(e -> {
          log.warn("job {}: cannot read the rollout's history, starting at the configured share: {}", job, ErrorClassifier.describe(e));
          rollout.setTargetPercent(configured);
          timer = vertx.setPeriodic(POLL_MS, t -> poll());
          return Future.succeededFuture();
        });
  }

  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  private void poll() {
    if (polling) return;
    polling = true;
    ReadPathLedger.rolloutEvents(ledger.pool(), job, Math.max(after, 0), SET, PAUSED, ledger.agentId())
        .onSuccess(events -> {
          for (ReadPathLedger.RolloutEvent e : events) {
            after = Math.max(after, e.id());
            follow(e.kind(), e.message(), e.details());
          }
        })
        .onFailure(e -> log.debug("job {}: cannot follow the rollout: {}", job, ErrorClassifier.describe(e)))
        .onComplete(x -> {
          polling = false;
          if (after < 0) after = 0;
        });
  }

  private void follow(String kind, String message, String details) {
    if (PAUSED.equals(kind)) {
      if (rollout.pause(message)) log.warn("job {}: read rollout paused by another agent: {}", job, message);
      return;
    }
    Integer to = details == null ? null : new JsonObject(details).getInteger("to");
    if (to != null && to >= 0 && to <= 100) {
      rollout.setTargetPercent(to);
      log.info("job {}: read rollout set to {}% by another agent", job, to);
    }
  }
}
