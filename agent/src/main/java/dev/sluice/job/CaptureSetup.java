package dev.sluice.job;

import dev.sluice.capture.CaptureChoice;
import dev.sluice.capture.ChangeCapture;
import dev.sluice.capture.LogicalCapability;
import dev.sluice.capture.LogicalCapture;
import dev.sluice.capture.LogicalSlot;
import dev.sluice.capture.SlotKeeper;
import dev.sluice.capture.SlotRisk;
import dev.sluice.capture.WalReader;
import dev.sluice.config.JobConfig;
import dev.sluice.db.ConnectionSettings;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.CaptureLeases;
import dev.sluice.ledger.CaptureLedger;
import dev.sluice.ledger.Ledger;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs a job's change capture in the mode it gets ({@link CaptureChoice}: the mode recorded in
 * the ledger, else the config's, {@code auto} deciding by what the source allows) and, in logical
 * mode, keeps its slot read ({@link SlotKeeper}: one agent at a time). Everything is in place before
 * this agent's first claim: the changelog, and in logical mode the publication and the slot, whose
 * consistent point precedes every segment's snapshot.
 */
final class CaptureSetup {
  private static final Logger log = LoggerFactory.getLogger(CaptureSetup.class);
  private static final long MB = 1L << 20;
  /** How long the completion and the final pass wait for the slot to be read up to a point. */
  static final Duration CAUGHT_UP_TIMEOUT = Duration.ofSeconds(60);

  /** Where the WAL reader hands keys to this agent's applier first. */
  private final dev.sluice.capture.KeyHandoff handoff;
  private final Vertx vertx;
  private final java.time.Clock clock;
  private final java.util.function.LongSupplier nanos;
  private final JobShape shape;
  private final String job;
  private final Pool source;
  private final ConnectionSettings sourceOptions;
  private final Duration stallTimeout;
  private final CaptureLedger ledger;
  private final CaptureLeases leases;
  private final Ledger jobs;
  private volatile CaptureChoice.Mode mode;
  private volatile SlotKeeper keeper;

  CaptureSetup(Vertx vertx, JobShape shape, Pool source, ConnectionSettings sourceOptions, Duration stallTimeout, Ledger ledger,
      java.time.Clock clock, java.util.function.LongSupplier nanos, dev.sluice.capture.KeyHandoff handoff) {
    this.handoff = handoff;
    this.clock = clock;
    this.nanos = nanos;
    this.vertx = vertx;
    this.shape = shape;
    this.job = shape.job().name();
    this.source = source;
    this.sourceOptions = sourceOptions;
    this.stallTimeout = stallTimeout;
    this.ledger = new CaptureLedger(ledger.pool(), ledger.agentId());
    this.leases = new CaptureLeases(ledger.pool(), ledger.agentId());
    this.jobs = ledger;
  }

  /** Decides the mode (recording it once for the job), installs capture in it, starts reading the slot in logical mode. */
  Future<CaptureChoice.Mode> install() {
    JobConfig.Capture cfg = shape.job().capture();
    String table = shape.job().source().table().sql();
    return ledger.mode(job).compose(recorded -> {
      // A job keeps its recorded mode (the reader retries if the source stops allowing it); only a
      // job not started yet asks the source what it allows.
      boolean ask = recorded == null && cfg.mode() != JobConfig.CaptureMode.TRIGGER;
      if (!ask) return decideAndInstall(cfg, table, recorded, false);
      // One job of this agent at a time asks and takes its slot: two jobs in auto that each saw the last free
      // slot both chose logical, and the second's slot creation then stopped the agent (53400) with the first's unread.
      return vertx.sharedData().getLocalLockWithTimeout(CHOICE_LOCK, CHOICE_LOCK_WAIT_MS).compose(lock ->
          ledger.mode(job).compose(again -> decideAndInstall(cfg, table, again, again == null))
              .andThen(x -> lock.release()));
    });
  }

  /** One agent-wide lock around a job's capture decision and its slot's creation. */
  private static final String CHOICE_LOCK = "sluice.capture.choice";
  /** As long as a slot's creation may wait for the source's running transactions (it has no timeout of its own). */
  private static final long CHOICE_LOCK_WAIT_MS = Duration.ofDays(1).toMillis();

  private Future<CaptureChoice.Mode> decideAndInstall(JobConfig.Capture cfg, String table, String recorded, boolean ask) {
    Future<LogicalCapability.Verdict> verdict = !ask ? Future.succeededFuture(null)
        : sourceOptions == null ? Future.succeededFuture(noOptions())
        : LogicalCapability.checkWithConnection(vertx, source, sourceOptions, job, table, shape.sourceKey());
    return verdict.map(v -> CaptureChoice.resolve(cfg.mode(), recorded, v)).compose(choice -> {
      if (choice.refused()) return Future.failedFuture(new IllegalStateException(choice.refusal()));
      return ledger.recordMode(job, choice.mode().db(), choice.reason()).map(m -> {
        CaptureChoice.Mode kept = CaptureChoice.Mode.of(m);
        log.info("job {}: change capture: {}", job, kept == choice.mode() ? choice.describe() : m + " (recorded by another agent)");
        return kept;
      });
    }).compose(m -> {
      mode = m;
      if (m == CaptureChoice.Mode.TRIGGER) return ChangeCapture.install(vertx, source, shape, true).map(m);
      return ChangeCapture.install(vertx, source, shape, false)
          // The slot's creation waits for the source's running transactions, however long: no statement timeout, its waits reported.
          .compose(v -> sourceOptions == null ? LogicalSlot.ensure(source, job, table) : LogicalSlot.ensure(vertx, source, job, table,
              dev.sluice.capture.SlotCreation.patient(vertx, sourceOptions.with("application_name", "sluice-slot"), source, job)))
          .map(created -> {
            if (created) log.info("job {}: created publication and replication slot {}", job, LogicalSlot.name(job));
            startKeeper();
            return m;
          });
    });
  }

  private static LogicalCapability.Verdict noOptions() {
    return new LogicalCapability.Verdict(java.util.List.of(new LogicalCapability.Problem("no replication connection settings",
        "the agent was started without the source's connection options")), false);
  }

  private void startKeeper() {
    if (keeper != null) return;
    JobConfig.SlotLimits l = shape.job().capture().slot();
    LogicalCapture.Settings settings = new LogicalCapture.Settings(WalReader.Settings.DEFAULTS.withStallTimeout(stallTimeout),
        new SlotRisk.Limits(l.throttleMb() * MB, l.pauseMb() * MB, l.dropMb() * MB), Duration.ofSeconds(1));
    var t = shape.job().source().table();
    keeper = new SlotKeeper(vertx, job, leases, SlotKeeper.reader(vertx, job, t.schema(), t.name(), t.sql(), shape.sourceKey(), source,
        sourceOptions, settings, events(), clock, nanos, handoff));
    keeper.start();
  }

  private LogicalCapture.Events events() {
    return new LogicalCapture.Events() {
      @Override
      public void slotReplaced(String reason) {
        request("capture.slot_replaced", reason + "; a new slot reads from now on, and every segment is verified again against a "
            + "fresh read of the source before the job completes");
      }

      @Override
      public void truncated() {
        request("capture.truncated", "the source table was truncated: no key names the rows it removed; every segment is verified "
            + "again against a fresh read of the source before the job completes");
      }

      @Override
      public Future<Boolean> stillCapturing() {
        return jobs.job(job).map(row -> row != null && row.state().writing() && row.state() != dev.sluice.ledger.JobState.COMPLETED);
      }

      @Override
      public void unusable(String reason) {
        log.error("job {}: the WAL stream cannot capture the table: {} (retrying)", job, reason);
      }
    };
  }

  private void request(String kind, String message) {
    log.warn("job {}: {}", job, message);
    ledger.requestReverify(job, kind, message)
        .onFailure(e -> log.error("job {}: cannot record {}: {}", job, kind, ErrorClassifier.describe(e)));
  }

  /** The mode installed (null before {@link #install}). */
  CaptureChoice.Mode mode() {
    return mode;
  }

  /** This agent's slot reader, or null (trigger mode, or another agent reads the slot). */
  LogicalCapture capture() {
    SlotKeeper k = keeper;
    return k == null ? null : k.capture();
  }

  /** Completes when every change committed before the call has its changelog entry. */
  Future<Void> caughtUp() {
    if (mode != CaptureChoice.Mode.LOGICAL) return Future.succeededFuture();
    return LogicalSlot.caughtUp(vertx, source, job, CAUGHT_UP_TIMEOUT, nanos, () -> {
      LogicalCapture c = capture();
      return c == null ? -1 : c.confirmedLsn();
    });
  }

  /** True (once) when changes were lost to capture since the last call: the final pass must run again. */
  Future<Boolean> takeReverify() {
    return ledger.takeReverify(job);
  }

  /**
   * The job completed: in logical mode this agent stops reading and drops the slot and publication
   * (nobody reads them any more, and an unread slot keeps WAL on the source); the changelog stays
   * until {@code sluice cleanup}, as with the trigger.
   */
  Future<Void> completed() {
    if (mode != CaptureChoice.Mode.LOGICAL) return Future.succeededFuture();
    return stop().compose(v -> LogicalSlot.drop(source, job)).compose(v -> LogicalSlot.foreignPublication(source, job))
        .onSuccess(left -> log.info("job {}: dropped {} {} (completed){}", job, left == null ? "publication and replication slot"
            : "replication slot", LogicalSlot.name(job), left == null ? "" : "; " + left))
        .<Void>mapEmpty()
        .recover(e -> {
          log.warn("job {}: cannot drop replication slot or publication {} ({}); `sluice cleanup` drops them", job, LogicalSlot.name(job),
              ErrorClassifier.describe(e));
          return Future.succeededFuture();
        });
  }

  Future<Void> stop() {
    SlotKeeper k = keeper;
    keeper = null;
    return k == null ? Future.succeededFuture() : k.stop();
  }
}
