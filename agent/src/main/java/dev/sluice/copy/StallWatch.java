package dev.sluice.copy;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether a COPY stream stalled on one of its databases: a side whose thread has been waiting on its
 * database (for rows, for the server to take bytes, for a statement's reply) with no progress for
 * {@code timeout} ns. A network partition or a frozen host sends no reset and no FIN, and the server
 * cannot end the statement, so without this the thread would wait in a socket read for as long as
 * TCP keepalive takes (two hours by default) or in a write until TCP gives up (about 15 minutes).
 *
 * <p>Only waits on a database count: while a side waits on Sluice itself (the source's reader for
 * room in the byte window, held back by the pacer, a closed gate or a slow target; the target's
 * writer for the next chunk) it is {@linkplain Probe#idle() idle}, and a stream Sluice holds back on
 * purpose never stalls. Each side's thread records into its {@link Probe} (a few volatile writes,
 * one per row read or slice written); {@link #check} is asked by a timer with the time and decides.
 * Pure: no clock, no threads of its own. A stall is seen between {@code timeout} and
 * {@code timeout} plus one tick after the last progress.
 */
final class StallWatch {
  /** The two databases of a stream. */
  enum Side {
    SOURCE,
    TARGET;

    String named() {
      return name().toLowerCase();
    }
  }

  /** A stall: the side, what its thread was waiting for, and for how long no progress was seen. */
  record Stall(Side side, String waitingFor, long nanos, long timeoutMs) {
    /** For the log and the ledger: which side, how long, on what, and what was done about it. */
    String reason() {
      return String.format(java.util.Locale.ROOT, "the %s stalled: no answer for %.1f s while %s (sessions.stallTimeoutMs %d);"
          + " its sessions were aborted", side.named(), nanos / 1e9, waitingFor, timeoutMs);
    }
  }

  /**
   * What one side's thread records. One writer (that thread), so the counter's increments are not
   * lost; the timer only reads. The counter moves once a row on the source: a release store
   * ({@code lazySet}), no fence, so counting costs the stream next to nothing.
   */
  static final class Probe {
    private volatile String waitingFor;
    private final AtomicLong progress = new AtomicLong();

    /** The thread starts waiting on its database for {@code what}; whatever it did before was progress. */
    void waiting(String what) {
      progress();
      waitingFor = what;
    }

    /** Bytes came from the database, or it took some. */
    void progress() {
      progress.lazySet(progress.get() + 1);
    }

    /** The thread waits on Sluice now (or is done): not timed. */
    void idle() {
      progress();
      waitingFor = null;
    }
  }

  private final long timeoutNanos;
  private final Probe[] probes = {new Probe(), new Probe()};
  // The timer's own state: the progress count seen at each side's last change, and when.
  private final long[] seen = {-1, -1};
  private final long[] since = new long[2];

  StallWatch(long timeoutNanos) {
    if (timeoutNanos <= 0) throw new IllegalArgumentException("timeout must be positive");
    this.timeoutNanos = timeoutNanos;
  }

  Probe probe(Side side) {
    return probes[side.ordinal()];
  }

  /**
   * The stall at {@code now} (ns, the timer's clock), or null: a side waiting on its database whose
   * progress count has not moved for the timeout. Called by one timer, not concurrently.
   */
  Stall check(long now) {
    for (Side side : Side.values()) {
      int i = side.ordinal();
      long p = probes[i].progress.get();
      String what = probes[i].waitingFor;
      if (what == null || p != seen[i]) {
        seen[i] = p;
        since[i] = now;
      } else if (now - since[i] >= timeoutNanos) {
        return new Stall(side, what, now - since[i], timeoutNanos / 1_000_000);
      }
    }
    return null;
  }

  /** How often to {@link #check}: a quarter of the timeout, between 100 ms and 1 s. */
  long tickMs() {
    return Math.max(100, Math.min(1000, timeoutNanos / 4_000_000));
  }
}
