package dev.sluice.job;

import dev.sluice.capture.SlotRisk;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
import dev.sluice.pace.AdaptivePace;
import dev.sluice.pace.Schedule;
import dev.sluice.health.Throttler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether one job may copy right now, and if not, why: the operator's pause, a database's circuit
 * breaker, the time windows, the job's replication slot (logical capture: the WAL it retains,
 * {@link SlotVerdict}), then the health decision, in that order. Re-evaluated every
 * {@value #TICK_MS} ms; it also hands the throttler's headroom factor to the job's pace. Every
 * change between running and waiting (or between kinds of reason) is logged and recorded as an audit
 * event, so the trail says when and why a job waited.
 */
public final class JobGate {
  private static final Logger log = LoggerFactory.getLogger(JobGate.class);
  static final long TICK_MS = 200;

  /** What keeps the job waiting; the event trail records a change of kind. */
  enum Kind { OPERATOR, BREAKER, SCHEDULE, SLOT, HEALTH }

  private final Vertx vertx;
  private final String job;
  private final Ledger ledger;
  private final Supplier<Schedule> schedule;
  private final Guards guards;
  private final AdaptivePace pace;
  private final Supplier<String> operatorPause;
  private volatile Supplier<Roster.FleetHealth> fleet = () -> Roster.FleetHealth.NONE;
  private volatile Supplier<SlotRisk.Decision> slot = () -> SlotRisk.Decision.NONE;
  private final Clock wallClock;
  private final List<Promise<Void>> waiters = new ArrayList<>();
  private volatile String reason = "starting";
  private Kind kind;
  private volatile long timer = -1;
  private boolean stopped;
  // The reasons of the current wait, one per change of kind: the "running again" event repeats them,
  // because the events of a wait caused by an unreachable target could not be written at the time.
  private final List<String> episode = new ArrayList<>();
  private java.time.Instant waitingSince;

  public JobGate(Vertx vertx, String job, Ledger ledger, Supplier<Schedule> schedule, Guards guards, AdaptivePace pace,
      Supplier<String> operatorPause, Clock wallClock) {
    this.vertx = vertx;
    this.job = job;
    this.ledger = ledger;
    this.schedule = schedule;
    this.guards = guards;
    this.pace = pace;
    this.operatorPause = operatorPause;
    this.wallClock = wallClock;
  }

  /** Where the other agents' health verdicts on this job come from (the heartbeat's view of the ledger). */
  public void shareWith(Supplier<Roster.FleetHealth> others) {
    this.fleet = others;
  }

  /** Where the decision on the job's slot comes from (logical capture, on the agent that reads it). */
  public void watchSlot(Supplier<SlotRisk.Decision> decision) {
    this.slot = decision;
  }

  public void start() {
    if (guards != null) guards.health().onDecisionChange(() -> vertx.runOnContext(v -> {
      if (timer >= 0) tick();
    }));
    tick();
    timer = vertx.setPeriodic(TICK_MS, t -> tick());
  }

  /** Stops ticking and releases every waiter (the job is stopping). */
  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
    synchronized (this) {
      stopped = true;
    }
    release();
  }

  public boolean open() {
    return reason == null;
  }

  /** Why the job waits, or null while it may run. */
  public String reason() {
    return reason;
  }

  /**
   * Why the gate is closed, as a short code: {@code paused} (operator), {@code breaker}, {@code window}
   * (outside the schedule), {@code slot} (the job's slot retains WAL past its pause level) or
   * {@code health}; null while open.
   */
  public synchronized String code() {
    if (kind == null) return null;
    return switch (kind) {
      case OPERATOR -> "paused";
      case BREAKER -> "breaker";
      case SCHEDULE -> "window";
      case SLOT -> "slot";
      case HEALTH -> "health";
    };
  }

  /** Completes once the gate is open (or the job stops). */
  public synchronized Future<Void> whenOpen() {
    if (reason == null || stopped) return Future.succeededFuture();
    Promise<Void> p = Promise.promise();
    waiters.add(p);
    return p.future();
  }

  synchronized void tick() {
    Kind k = null;
    String r = operatorPause.get();
    if (r != null) k = Kind.OPERATOR;
    if (k == null && guards != null) {
      r = guards.source().reason();
      if (r == null) r = guards.target().reason();
      if (r != null) k = Kind.BREAKER;
    }
    Schedule windows = schedule.get();
    if (k == null && !windows.allows(wallClock.instant())) {
      r = windows.reasonClosed(wallClock.instant());
      k = Kind.SCHEDULE;
    }
    // This agent's sensors, combined with the other agents' verdicts on the job (from the ledger).
    Throttler.Decision d = SharedVerdict.combine(guards == null ? SharedVerdict.HEALTHY : guards.health().decision(), fleet.get());
    SlotRisk.Decision s = slot.get();
    Throttler.Decision withSlot = SlotVerdict.combine(d, s);
    pace.headroom(withSlot.rateFactor(), withSlot.headroom());
    if (k == null && s != null && s.holds()) {
      r = s.reason();
      k = Kind.SLOT;
    }
    if (k == null && d.throttled()) {
      r = d.reason();
      k = Kind.HEALTH;
    }
    if (k != kind) record(k, r);
    kind = k;
    reason = r;
    if (r == null) release();
  }

  private void record(Kind k, String r) {
    String message;
    String eventKind;
    if (k == null) {
      long waited = waitingSince == null ? 0 : java.time.Duration.between(waitingSince, wallClock.instant()).toMillis();
      message = String.format(java.util.Locale.ROOT, "job %s running again after waiting %.1f s for: %s", job, waited / 1000.0,
          String.join("; then ", episode));
      eventKind = "job.running";
      episode.clear();
      waitingSince = null;
    } else {
      if (episode.isEmpty()) waitingSince = wallClock.instant();
      episode.add(r);
      message = "job " + job + " waiting: " + r;
      eventKind = "job.waiting";
    }
    log.info(message);
    if (k == Kind.OPERATOR || (k == null && kind == Kind.OPERATOR)) return; // the pause/resume itself is the event
    if (kind == null && k == null) return;
    ledger.event(job, null, eventKind, message, null)
        .onFailure(e -> log.debug("cannot record {} (ledger unreachable)", eventKind));
  }

  private synchronized void release() {
    List<Promise<Void>> ws = new ArrayList<>(waiters);
    waiters.clear();
    ws.forEach(Promise::tryComplete);
  }
}
