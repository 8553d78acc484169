package dev.sluice.capture;

/**
 * How far the WAL reader is behind the source, on the source's commit clock: 0 once it has read and
 * recorded everything the server sent, else the age of the transaction it is reading. pgoutput
 * (protocol 1) sends a transaction only after it committed, and its BEGIN carries that commit time,
 * so from a transaction's first message on its age is known: while one large transaction streams
 * (minutes of changes) the lag is its own age, not that of the transaction before it (which an idle
 * hour may have made far older), nor 0 when none came before it. Pure: the time is an argument.
 */
public final class WalLag {
  private volatile long commitMillis;
  private volatile boolean caughtUp = true;

  /**
   * {@code keys} took a message; {@code wasInTransaction}: whether it was inside a transaction before.
   * A transaction's messages (its BEGIN, changes, COMMIT) count; one outside any (a heartbeat, sent
   * while idle) does not, or an idle hour would show as lag until the stream went quiet.
   */
  public void took(WalKeys keys, boolean wasInTransaction) {
    if (!wasInTransaction && !keys.inTransaction()) return;
    caughtUp = false;
    long micros = keys.readingCommitMicros();
    if (micros != 0) commitMillis = PgOutput.epochMillis(micros);
  }

  /** Everything the server sent is read and recorded, between transactions. */
  public void caughtUp() {
    caughtUp = true;
  }

  /** The lag at {@code nowMillis} (epoch milliseconds of the agent's clock). */
  public long millis(long nowMillis) {
    long at = commitMillis;
    if (caughtUp || at == 0) return 0;
    return Math.max(0, nowMillis - at);
  }
}
