package dev.sluice.capture;

import dev.sluice.db.ConnectionSettings;
import dev.sluice.resilience.DatabaseStalled;
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
 *
 * <p>A stream that stalls (a network partition, a frozen host: no error ever comes) is found by its
 * {@link StreamWatch} within two to three times {@code stallTimeout}: the reader then aborts its sessions and
 * fails saying so, and its owner starts another, which reads again from the slot.
 */
public final class WalReader {
  /**
   * The reader's timing and batch settings. {@code stallTimeout}: how long the stream may stay silent
   * after a heartbeat, or the capture session leave a statement unanswered ({@code sessions.stallTimeoutMs}).
   */
  public record Settings(int batchKeys, Duration quiet, Duration maxDelay, Duration heartbeat, Duration statusInterval,
      Duration stallTimeout) {
    public static final Settings DEFAULTS = new Settings(20_000, Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(10),
        Duration.ofSeconds(1));

    /** With the default stall timeout. */
    public Settings(int batchKeys, Duration quiet, Duration maxDelay, Duration heartbeat, Duration statusInterval) {
      this(batchKeys, quiet, maxDelay, heartbeat, statusInterval, Duration.ofMillis(dev.sluice.config.SessionLimits.DEFAULT_STALL_TIMEOUT_MS));
    }

    /** The same with another stall timeout. */
    public Settings withStallTimeout(Duration timeout) {
      return new Settings(batchKeys, quiet, maxDelay, heartbeat, statusInterval, timeout);
    }
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
  private final StreamWatch watch;
  private volatile Connection replication;
  private volatile Connection session;
  private volatile String stalled;

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
    this.watch = new StreamWatch(settings.stallTimeout().toNanos());
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

  /**
   * Stops reading at once, recording and confirming nothing more: for a slot about to be dropped,
   * whose changes are all verified again anyway. A thread blocked on a statement (a lock held by
   * someone else, a frozen server) is freed by aborting its sessions rather than waited for. Blocks up
   * to {@code wait} for the thread to end.
   */
  public void abandon(Duration wait) throws InterruptedException {
    stopping = true;
    abortSessions("stopped: its slot is dropped");
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

  /**
   * Asked by the owner's timer, every {@code sessions.stallTimeoutMs} / 4 (100 ms to 1 s), never blocks: when a statement on the capture session, or the
   * stream's start, had no answer for the stall timeout, the reader's sessions are aborted (on a
   * thread of their own) and the reader fails saying so. Returns the stall's reason, or null.
   */
  public String watch(long now) {
    StreamWatch.Stall stall = watch.check(now);
    if (stall == null || stopping) return null;
    return abort(stall);
  }

  /** Aborts the sessions after a stall (once); the blocked thread then fails, and {@link #run} reports the stall. */
  private String abort(StreamWatch.Stall stall) {
    return abortSessions(stall.reason()) ? stall.reason() : null;
  }

  /** Aborts both sessions once, for {@code reason}; false when they were aborted already. */
  private boolean abortSessions(String reason) {
    synchronized (this) {
      if (stalled != null) return false;
      stalled = reason;
    }
    for (Connection c : new Connection[] {replication, session}) {
      if (c != null) {
        try {
          c.abort(ABORT);
        } catch (SQLException | RuntimeException e) {
          // closing anyway below
        }
      }
    }
    return true;
  }

  /** Runs an abort on a thread of its own: closing a TLS socket may wait for a writer blocked on a frozen peer. */
  private static final java.util.concurrent.Executor ABORT = r -> {
    Thread t = new Thread(r, "sluice-wal-abort");
    t.setDaemon(true);
    t.start();
  };

  private void run() {
    String name = LogicalSlot.name(job);
    // A read that waits twice the stall timeout fails: a backstop for the waits the watch cannot abort (opening a session).
    int socketTimeout = (int) Math.min(Integer.MAX_VALUE, Math.max(1, 2 * ((settings.stallTimeout().toMillis() + 999) / 1000)));
    watch.waiting("connecting", nanos.getAsLong());
    try (Connection repl = SourceJdbc.replication(options, "sluice-wal", socketTimeout);
         ChangelogWriter writer = new ChangelogWriter(session = SourceJdbc.session(options, "sluice-capture", socketTimeout), job)) {
      replication = repl;
      if (stalled != null) throw new java.sql.SQLException("aborted");
      watch.waiting("starting the stream", nanos.getAsLong());
      PGReplicationStream s = repl.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
          .withSlotName(name)
          .withSlotOption("proto_version", 1)
          .withSlotOption("publication_names", name)
          .withSlotOption("messages", true)
          .withStatusInterval((int) settings.statusInterval().toMillis(), TimeUnit.MILLISECONDS)
          .start();
      watch.answered();
      stream = s;
      streaming = true;
      loop(s, writer);
      // Stopping: record what was read, confirm it, and tell the server before closing.
      flush(s, writer);
      s.forceUpdateStatus();
      s.close();
    } catch (Throwable e) {
      String why = stalled;
      // The read timeout (the backstop) may end a read on a silent source before the watch's next tick does: a stall too.
      if (why == null && readTimedOut(e)) {
        why = new StreamWatch.Stall("replication stream stalled: a read had no answer", "", TimeUnit.SECONDS.toNanos(socketTimeout),
            settings.stallTimeout().toMillis()).reason();
      }
      if (!stopping) listener.failed(why != null ? new DatabaseStalled(why) : e);
    } finally {
      streaming = false;
    }
  }

  private static boolean readTimedOut(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.net.SocketTimeoutException) return true;
    }
    return false;
  }

  private void loop(PGReplicationStream s, ChangelogWriter writer) throws SQLException, InterruptedException {
    long lastMessage = nanos.getAsLong();
    long lastHeartbeat = lastMessage;
    long heartbeatEvery = watch.heartbeatNanos(settings.heartbeat().toNanos());
    long firstPending = 0;
    long sleepMs = 1;
    long received = s.getLastReceiveLSN().asLong();
    while (!stopping) {
      ByteBuffer m = s.readPending();
      long now = nanos.getAsLong();
      long lsn = s.getLastReceiveLSN().asLong();
      if (m != null || lsn != received) watch.received(); // a message, or a keepalive that moved the position
      received = lsn;
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
      if (now - lastMessage >= heartbeatEvery && now - lastHeartbeat >= heartbeatEvery) {
        watch.heartbeatSent(now);
        watch.waiting("writing a heartbeat", now);
        watch.heartbeatAt(writer.heartbeat());
        watch.answered();
        lastHeartbeat = now;
      }
      if (watch.due(now)) {
        watch.waiting("asking how far the server's sender read", now);
        ChangelogWriter.Sender sender = writer.sender(LogicalSlot.name(job));
        watch.answered();
        StreamWatch.Stall stall = watch.judge(nanos.getAsLong(), sender != null, sender == null ? null : sender.sentLsn(),
            sender == null || sender.working());
        if (stall != null) {
          abort(stall);
          throw new DatabaseStalled(stall.reason());
        }
      }
      Thread.sleep(sleepMs);
      sleepMs = Math.min(20, sleepMs * 2);
    }
  }

  /** Hands the waiting keys over or records them, then confirms what is safe to confirm. */
  private void flush(PGReplicationStream s, ChangelogWriter writer) throws SQLException, InterruptedException {
    if (keys.pendingKeys() > 0) {
      Map<List<String>, Long> batch = keys.takeKeys();
      // Decoded is not yet visible: a commit reaches the WAL (and the stream) before its backend makes it
      // visible, and with synchronous replication only once a standby confirmed it. Re-read or recorded
      // before then, a key would bring the row as it was (docs/consistency.md, step 2 of the argument).
      writer.awaitVisible(keys.takenXids(), () -> keepAlive(s));
      if (!handoff.handle(batch, () -> stopping, () -> keepAlive(s))) {
        watch.waiting("recording keys", nanos.getAsLong());
        writer.record(batch);
        watch.answered();
      }
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
