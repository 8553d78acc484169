package dev.sluice.capture;

import dev.sluice.db.ConnectionSettings;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * Reads a job's logical replication slot on a thread of its own (pgjdbc's replication API blocks)
 * and hands the changed keys to its agent's applier ({@link KeyHandoff}, {@link DirectKeys}), or
 * records them in the job's changelog ({@link ChangelogWriter}), where the applier takes them. The
 * slot's confirmed position moves only to the end of a transaction whose keys are all handled
 * (applied, dropped, or recorded and committed on the source): killed at any moment, the next reader
 * starts from the slot and reads again at most what was not yet handled; a key read twice is applied once.
 *
 * <p>Keys are recorded in batches: when {@code batchKeys} are waiting, when the stream pauses for
 * {@code quiet} (nothing more is arriving right now), or at the latest {@code maxDelay} after the
 * oldest waiting key was read. While the job's table is idle, a heartbeat message written into the
 * WAL every {@code heartbeat} brings a position to confirm, so the slot does not hold back WAL that
 * other tables or databases write.
 */
public final class WalReader {
  /** The reader's timing and batch settings. */
  public record Settings(int batchKeys, Duration quiet, Duration maxDelay, Duration heartbeat, Duration statusInterval) {
    public static final Settings DEFAULTS = new Settings(20_000, Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(10),
        Duration.ofSeconds(1));
  }

  /** What the reader tells its owner, on its own thread. */
  public interface Listener {
    /** The job's table was truncated (rows are gone that no key names). */
    void truncated(long lsn);

    /** The reader stopped on an error (not after {@link #stop}); the owner decides whether to start another. */
    void failed(Throwable error);
  }

  private final ConnectionSettings options;
  private final String job;
  private final WalKeys keys;
  private final Settings settings;
  private final Listener listener;
  private final LongSupplier nanos;
  private final KeyHandoff handoff;
  private volatile boolean stopping;
  private volatile Thread thread;
  private volatile PGReplicationStream stream;
  private volatile long recorded;
  private volatile long confirmedLsn;
  private final WalLag lag = new WalLag();
  private volatile boolean streaming;

  public WalReader(ConnectionSettings options, String job, WalKeys keys, Settings settings, Listener listener, LongSupplier nanos) {
    this(options, job, keys, settings, listener, nanos, KeyHandoff.NONE);
  }

  /** {@code handoff}: where keys go first, straight to this agent's applier ({@link DirectKeys}); what it does not take goes to the changelog. */
  public WalReader(ConnectionSettings options, String job, WalKeys keys, Settings settings, Listener listener, LongSupplier nanos,
      KeyHandoff handoff) {
    this.handoff = handoff;
    this.options = options;
    this.job = job;
    this.keys = keys;
    this.settings = settings;
    this.listener = listener;
    this.nanos = nanos;
  }

  /** Starts the reader's thread (once). */
  public synchronized void start() {
    if (thread != null) throw new IllegalStateException("already started");
    thread = new Thread(this::run, "sluice-wal-" + job);
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops reading; what was recorded is confirmed to the server first. Blocks up to {@code wait}. */
  public void stop(Duration wait) throws InterruptedException {
    stopping = true;
    Thread t = thread;
    if (t != null) t.join(wait.toMillis());
  }

  /** Keys recorded so far (folded within each batch). */
  public long recorded() {
    return recorded;
  }

  /** The position confirmed to the server last (0 before the first). */
  public long confirmedLsn() {
    return confirmedLsn;
  }

  /** True once the stream is open. */
  public boolean streaming() {
    return streaming;
  }

  /** How far behind the source the reader is ({@link WalLag}: the age of the transaction it reads, 0 when caught up). */
  public long lagMillis(long nowMillis) {
    return lag.millis(nowMillis);
  }

  private void run() {
    String name = LogicalSlot.name(job);
    try (Connection repl = SourceJdbc.replication(options, "sluice-wal");
         ChangelogWriter writer = new ChangelogWriter(SourceJdbc.session(options, "sluice-capture"), job)) {
      PGReplicationStream s = repl.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
          .withSlotName(name)
          .withSlotOption("proto_version", 1)
          .withSlotOption("publication_names", name)
          .withSlotOption("messages", true)
          .withStatusInterval((int) settings.statusInterval().toMillis(), TimeUnit.MILLISECONDS)
          .start();
      stream = s;
      streaming = true;
      loop(s, writer);
      // Stopping: record what was read, confirm it, and tell the server before closing.
      flush(s, writer);
      s.forceUpdateStatus();
      s.close();
    } catch (Throwable e) {
      if (!stopping) listener.failed(e);
    } finally {
      streaming = false;
    }
  }

  private void loop(PGReplicationStream s, ChangelogWriter writer) throws SQLException, InterruptedException {
    long lastMessage = nanos.getAsLong();
    long lastHeartbeat = lastMessage;
    long firstPending = 0;
    long sleepMs = 1;
    while (!stopping) {
      ByteBuffer m = s.readPending();
      long now = nanos.getAsLong();
      if (m != null) {
        int before = keys.pendingKeys();
        boolean wasInTransaction = keys.inTransaction();
        keys.accept(m);
        if (before == 0 && keys.pendingKeys() > 0) firstPending = now;
        lag.took(keys, wasInTransaction);
        if (keys.takeTruncated()) listener.truncated(keys.committedLsn());
        lastMessage = now;
        sleepMs = 1;
        if (keys.pendingKeys() >= settings.batchKeys()
            || (keys.pendingKeys() > 0 && now - firstPending >= settings.maxDelay().toNanos())) {
          flush(s, writer);
        }
        continue;
      }
      if (now - lastMessage >= settings.quiet().toNanos()) {
        flush(s, writer);
        if (!keys.inTransaction()) lag.caughtUp();
      }
      if (now - lastMessage >= settings.heartbeat().toNanos() && now - lastHeartbeat >= settings.heartbeat().toNanos()) {
        writer.heartbeat();
        lastHeartbeat = now;
      }
      Thread.sleep(sleepMs);
      sleepMs = Math.min(20, sleepMs * 2);
    }
  }

  /** Hands the waiting keys over or records them, then confirms what is safe to confirm. */
  private void flush(PGReplicationStream s, ChangelogWriter writer) throws SQLException, InterruptedException {
    if (keys.pendingKeys() > 0) {
      Map<List<String>, Long> batch = keys.takeKeys();
      if (!handoff.handle(batch, () -> stopping, () -> keepAlive(s))) writer.record(batch);
      recorded += batch.size();
    }
    if (keys.inTransaction()) return;
    // Between transactions with nothing waiting: everything the server sent is recorded, so the
    // position it last reported (a keepalive's, or a heartbeat message's) is safe to confirm too.
    long lsn = Math.max(keys.committedLsn(), s.getLastReceiveLSN().asLong());
    if (lsn > confirmedLsn) {
      LogSequenceNumber l = LogSequenceNumber.valueOf(lsn);
      s.setFlushedLSN(l);
      s.setAppliedLSN(l);
      confirmedLsn = lsn;
    }
  }

  /** While the applier applies a batch handed over: a status message, so the server does not end the stream as silent. */
  private static void keepAlive(PGReplicationStream s) {
    try {
      s.forceUpdateStatus();
    } catch (SQLException e) {
      // the stream is broken: the next read says so
    }
  }
}
