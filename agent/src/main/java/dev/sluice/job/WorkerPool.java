package dev.sluice.job;

import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Segment;
import dev.sluice.pace.AdaptivePace;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's segment workers on this agent: {@code concurrency.max} of them, of which only as many
 * as the adaptive concurrency limit hold a segment at a time. A worker waits for the job's
 * {@link JobGate}, claims a segment lease, has the job run it, then claims the next. With nothing
 * left to claim it sleeps until a segment of this agent ends or a lease may have expired elsewhere;
 * when the last worker leaves, the job decides what that means ({@link Job#lastWorkerLeft}).
 * Workers run on the job's event loop and never block it.
 */
final class WorkerPool {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

  /** What the workers ask of their job. */
  interface Job {
    /** Workers leave between segments (the job stops, or was aborted). */
    boolean halted();

    /** Runs one claimed segment to its end (verified, parked, cut or handed back). */
    Run run(Segment seg);

    /** Nothing is left to claim anywhere, or the job halted: record the outcome. A failure is retried. */
    Future<Void> lastWorkerLeft();
  }

  /**
   * A segment's run: {@code copied} completes once its copy is over (committed, or the run ended),
   * {@code done} at its end. Between the two the segment is read back and proved: the worker claims
   * its next segment meanwhile, and the segment's lease is held until {@code done}.
   */
  record Run(Future<Void> copied, Future<Void> done) {}

  private final Vertx vertx;
  private final String name;
  private final Ledger ledger;
  private final Duration lease;
  private final JobGate gate;
  private final AdaptivePace pace;
  private final Guards guards;
  private final JobStats stats;
  private final IntSupplier size;
  private final Job job;
  private final AtomicInteger workers = new AtomicInteger();
  private final AtomicInteger holding = new AtomicInteger();
  /** Segments past their copy and still being proved: the job has not ended while any is. */
  private final AtomicInteger proving = new AtomicInteger();
  /** Workers waiting because nothing was left to claim; woken when a segment of ours finishes. */
  private final Queue<Runnable> idleWorkers = new ConcurrentLinkedQueue<>();
  private final java.util.function.BooleanSupplier coldFirst;

  /** {@code size}: the configured number of workers ({@code concurrency.max}), which a reload may change. */
  WorkerPool(Vertx vertx, String name, Ledger ledger, Duration lease, JobGate gate, AdaptivePace pace, Guards guards, JobStats stats,
      IntSupplier size, java.util.function.BooleanSupplier coldFirst, Job job) {
    this.coldFirst = coldFirst;
    this.vertx = vertx;
    this.name = name;
    this.ledger = ledger;
    this.lease = lease;
    this.gate = gate;
    this.pace = pace;
    this.guards = guards;
    this.stats = stats;
    this.size = size;
    this.job = job;
  }

  /** Workers alive now, and segments still being proved after their worker went on. */
  int alive() {
    return workers.get() + proving.get();
  }

  /** Starts {@code concurrency.max} workers. */
  void launch() {
    add(size.getAsInt());
  }

  /** {@code concurrency.max} was raised live: start the difference (lowered: surplus workers leave between segments). */
  void resize() {
    int more = size.getAsInt() - workers.get();
    if (more > 0 && workers.get() > 0 && !job.halted()) add(more);
  }

  private void add(int n) {
    for (int i = 0; i < n; i++) {
      workers.incrementAndGet();
      vertx.runOnContext(v -> worker());
    }
  }

  private void worker() {
    if (job.halted()) {
      workerExit();
      return;
    }
    // Concurrency was lowered live: surplus workers leave between segments (never the last one).
    if (workers.get() > size.getAsInt()) {
      if (workers.decrementAndGet() >= size.getAsInt()) return;
      workers.incrementAndGet(); // another worker left first; this one stays
    }
    if (!gate.open()) {
      // Woken when the gate opens (or the job stops), not one polling tick later.
      gate.whenOpen().onComplete(v -> vertx.runOnContext(x -> worker()));
      return;
    }
    if (holding.get() >= pace.concurrency()) {
      // A slot frees (or the limit rises) when a segment ends: woken then, or one tick later.
      sleepUntilWoken(JobGate.TICK_MS);
      return;
    }
    holding.incrementAndGet();
    ledger.claim(name, lease, coldFirst.getAsBoolean()).onComplete(ar -> {
      if (ar.failed() || ar.result() == null) holding.decrementAndGet();
      if (ar.failed()) {
        if (guards != null) guards.target().failure(ar.cause());
        log.warn("job {}: cannot claim a segment: {}", name, ErrorClassifier.describe(ar.cause()));
        vertx.setTimer(1000 + ThreadLocalRandom.current().nextInt(1000), t -> worker());
        return;
      }
      Segment seg = ar.result();
      if (seg == null) {
        idle();
        return;
      }
      stats.inFlight().incrementAndGet();
      proving.incrementAndGet();
      Run run = job.run(seg);
      // The copy is over: the slot goes to the next segment while this one is read back and proved.
      run.copied().onComplete(x -> {
        holding.decrementAndGet();
        worker();
      });
      run.done().onComplete(x -> {
        // Whatever happened, this agent is done with the segment: the heartbeat stops renewing it.
        ledger.leases().drop(seg);
        stats.inFlight().decrementAndGet();
        if (x.failed()) log.warn("job {} segment {}: {}", name, seg.seq(), ErrorClassifier.describe(x.cause()));
        proved();
        wakeSleepers();
      });
    });
  }

  /** A segment's run ended; if it was the last thing of the job's on this agent, the job decides what that means. */
  private void proved() {
    if (proving.decrementAndGet() > 0 || workers.get() > 0) return;
    lastLeft();
  }

  private void idle() {
    ledger.progress(name).onComplete(ar -> {
      if (ar.succeeded() && ar.result().finished()) {
        workerExit();
        // The others need not sleep out their timers to find the job finished too.
        wakeSleepers();
      } else {
        // Segments are in flight on other agents (or the ledger is unreachable): their leases may
        // expire and become ours to take over. A segment finishing here wakes us sooner, so the
        // job ends when its last segment does, not up to one poll later.
        sleepUntilWoken(Math.min(2000, lease.toMillis() / 2));
      }
    });
  }

  private void wakeSleepers() {
    for (Runnable w; (w = idleWorkers.poll()) != null; ) {
      Runnable sleeper = w;
      vertx.runOnContext(v -> sleeper.run());
    }
  }

  /** Runs this worker again when a local segment ends, or after {@code ms}, whichever comes first. */
  private void sleepUntilWoken(long ms) {
    AtomicBoolean woke = new AtomicBoolean();
    Runnable wake = () -> {
      if (woke.compareAndSet(false, true)) worker();
    };
    idleWorkers.add(wake);
    vertx.setTimer(ms, t -> {
      idleWorkers.remove(wake);
      wake.run();
    });
  }

  private void workerExit() {
    // A segment still being proved ends the job's work here later (proved), not this worker.
    if (workers.decrementAndGet() > 0 || proving.get() > 0) return;
    lastLeft();
  }

  private void lastLeft() {
    job.lastWorkerLeft().onFailure(e -> {
      workers.incrementAndGet();
      vertx.setTimer(2000, t -> idle());
    });
  }
}
