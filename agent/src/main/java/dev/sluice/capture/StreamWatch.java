package dev.sluice.capture;

import java.util.Locale;

/**
 * Whether a {@link WalReader}'s stream from the source stalled. A network partition or a frozen host
 * sends no reset and no error: the stream then just stays silent ({@code readPending} returns nothing
 * for ever) and a statement on the reader's capture session waits in a socket read for ever.
 *
 * <p>Silence alone proves nothing: a table nobody writes sends nothing, and the server's keepalives
 * (which pgjdbc keeps to itself) only show when their position moves. So the reader asks for an echo:
 * while nothing arrives it writes a heartbeat message into the WAL (at least every stall timeout),
 * which its own stream carries back. Nothing received for the timeout after a heartbeat makes the
 * stream <em>suspect</em> ({@link #due}); the reader then asks the server how far its sender on the slot
 * read the WAL, and {@link #judge} decides:
 * <ul>
 *   <li>no sender on the slot: the server lost the stream: stalled;
 *   <li>the last ask, a whole timeout ago, already found the sender past the (first unanswered)
 *       heartbeat: it sent the echo then, which never arrived: stalled;
 *   <li>the sender did not move since the last ask and is not working (it waits to send to the
 *       client, or idles): stalled; where the role may not see the sender's position, not working
 *       at this ask and the last one: stalled;
 *   <li>otherwise it moved, or works on (busy decoding: a large transaction of other tables sends
 *       nothing for minutes, and while the server replays one at its commit the position stands
 *       still; or it just passed the heartbeat): healthy for now, the window starts again.
 * </ul>
 * A statement on the capture session (recording keys, a heartbeat, the question itself, opening the
 * stream) that has no answer for the timeout is a stall too ({@link #check}, asked by a timer while the
 * reader's thread is blocked). Anything received from the stream resets it all.
 *
 * <p>Pure: times are the reader's monotonic ns, passed in; no threads of its own. The reader's thread
 * writes, one timer reads ({@link #check}); fields the timer reads are volatile.
 */
final class StreamWatch {
  /** A stall: what was found, for how long, and the timeout; {@link #reason()} says it for the log and the API. */
  record Stall(String what, String detail, long nanos, long timeoutMs) {
    String reason() {
      return String.format(Locale.ROOT, "the source's %s for %.1f s%s (sessions.stallTimeoutMs %d); reconnecting", what, nanos / 1e9,
          detail, timeoutMs);
    }
  }

  private static final String STREAM = "replication stream stalled: nothing received";

  private final long timeoutNanos;
  private long heartbeatAt = -1;
  private long silentSince = -1;
  private long heartbeatLsn = -1;
  private long probedSentLsn = -1;
  private boolean askedIdle;
  private volatile String waitingFor;
  private volatile long waitingSince;

  StreamWatch(long timeoutNanos) {
    if (timeoutNanos <= 0) throw new IllegalArgumentException("timeout must be positive");
    this.timeoutNanos = timeoutNanos;
  }

  /** Something came from the stream (a message, or a keepalive whose position moved): it lives. */
  void received() {
    heartbeatAt = -1;
    silentSince = -1;
    heartbeatLsn = -1;
    probedSentLsn = -1;
    askedIdle = false;
  }

  /** A heartbeat is about to be written at {@code now}: the silence is timed from the first one without an echo. */
  void heartbeatSent(long now) {
    if (heartbeatAt >= 0) return;
    heartbeatAt = now;
    silentSince = now;
  }

  /** A heartbeat's position in the WAL ({@code pg_logical_emit_message}'s answer, its record's end): the first one without an echo counts. */
  void heartbeatAt(long lsn) {
    if (heartbeatLsn < 0) heartbeatLsn = lsn;
  }

  /** True when nothing arrived for the timeout after a heartbeat: the reader asks the server about its sender. */
  boolean due(long now) {
    return heartbeatAt >= 0 && now - heartbeatAt >= timeoutNanos;
  }

  /**
   * Decides on a suspect stream, given whether the slot has a sender ({@code active}), how far it read
   * the WAL ({@code sentLsn}, null when not visible) and whether it is {@code working}: the stall, or
   * null (busy: the window starts again at {@code now}).
   */
  Stall judge(long now, boolean active, Long sentLsn, boolean working) {
    long silent = now - silentSince;
    long ms = timeoutNanos / 1_000_000;
    if (!active) return new Stall(STREAM, " (the server has no sender on the slot)", silent, ms);
    // pg_logical_emit_message answers the end of the heartbeat's record, and the sender's position is the end of the
    // last record it read: at or past it, the sender read (and sent) the heartbeat.
    if (heartbeatLsn >= 0 && probedSentLsn >= heartbeatLsn) {
      return new Stall(STREAM, " (the server sent the heartbeat a timeout ago, it never arrived)", silent, ms);
    }
    boolean stood = sentLsn == null ? askedIdle : probedSentLsn >= 0 && sentLsn <= probedSentLsn;
    if (stood && !working) return new Stall(STREAM, " (the server's sender did not move and waits)", silent, ms);
    if (sentLsn != null) probedSentLsn = sentLsn;
    askedIdle = !working;
    heartbeatAt = now;
    return null;
  }

  /** The reader's thread starts waiting on the capture session for {@code what} (a statement's answer, a connection). */
  void waiting(String what, long now) {
    waitingSince = now;
    waitingFor = what;
  }

  /** The capture session answered. */
  void answered() {
    waitingFor = null;
  }

  /** For the timer: a wait on the capture session that had no answer for the timeout, or null. */
  Stall check(long now) {
    String what = waitingFor;
    long since = waitingSince;
    if (what == null || now - since < timeoutNanos) return null;
    return new Stall("capture session stalled: no answer while " + what, "", now - since, timeoutNanos / 1_000_000);
  }

  /** How often to {@link #check}: a quarter of the timeout, between 100 ms and 1 s. */
  long tickMs() {
    return Math.max(100, Math.min(1000, timeoutNanos / 4_000_000));
  }

  /** How often to write a heartbeat while nothing arrives: {@code heartbeat}, at most the timeout. */
  long heartbeatNanos(long heartbeat) {
    return Math.min(heartbeat, timeoutNanos);
  }
}
