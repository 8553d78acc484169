package dev.sluice.capture;

import dev.sluice.ledger.CaptureLeases;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import dev.sluice.db.ConnectionSettings;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's slot reader on one agent of many: every second it takes or renews the job's capture lease
 * ({@link CaptureLeases}); while this agent holds it, a {@link LogicalCapture} reads the slot, and
 * when the lease is lost (another agent took it over after this one stalled) the reader stops. A
 * dead agent's lease runs out after {@link #TERM} and another agent's keeper takes over; the slot
 * admits one reader at a time anyway, so the lease only keeps the others from trying.
 */
public final class SlotKeeper {
  private static final Logger log = LoggerFactory.getLogger(SlotKeeper.class);
  /** How long a lease lasts without renewal: a dead reader's slot is read again within this. */
  public static final Duration TERM = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final String job;
  private final CaptureLeases leases;
  private final Supplier<LogicalCapture> factory;
  private long timer = -1;
  private boolean busy;
  private volatile boolean stopped;
  private volatile LogicalCapture capture;

  public SlotKeeper(Vertx vertx, String job, CaptureLeases leases, Supplier<LogicalCapture> factory) {
    this.vertx = vertx;
    this.job = job;
    this.leases = leases;
    this.factory = factory;
  }

  /** The usual reader of a job's table on {@code source}. */
  public static Supplier<LogicalCapture> reader(Vertx vertx, String job, String schema, String table, String tableSql, List<String> key,
      Pool source, ConnectionSettings options, LogicalCapture.Settings settings, LogicalCapture.Events events, Clock clock, LongSupplier nanos,
      KeyHandoff handoff) {
    return () -> new LogicalCapture(vertx, job, schema, table, tableSql, key, source, options, settings, events, clock, nanos, handoff);
  }

  public void start() {
    vertx.runOnContext(v -> {
      if (stopped || timer >= 0) return;
      timer = vertx.setPeriodic(1000, t -> tick());
      tick();
    });
  }

  private void tick() {
    if (busy || stopped) return;
    busy = true;
    leases.acquire(job, TERM).onComplete(ar -> {
      busy = false;
      if (stopped) return;
      if (ar.failed()) {
        log.debug("job {}: cannot renew the capture lease: {}", job, ErrorClassifier.describe(ar.cause()));
        return; // the reader keeps going until another agent takes the lease, whose reader then waits for the slot
      }
      Long epoch = ar.result();
      if (epoch != null && capture == null) {
        log.info("job {}: this agent reads replication slot {} (lease epoch {})", job, LogicalSlot.name(job), epoch);
        capture = factory.get();
        capture.start();
      } else if (epoch == null && capture != null) {
        log.warn("job {}: another agent reads replication slot {} now; this one stops reading it", job, LogicalSlot.name(job));
        LogicalCapture c = capture;
        capture = null;
        c.stop();
      }
    });
  }

  /** The capture this agent runs, or null while another agent reads the slot. */
  public LogicalCapture capture() {
    return capture;
  }

  /** Stops reading (what was read is recorded and confirmed first) and hands the lease back. */
  public Future<Void> stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
    LogicalCapture c = capture;
    capture = null;
    if (c == null) return Future.succeededFuture();
    return c.stop().compose(v -> leases.release(job)).otherwiseEmpty();
  }
}
