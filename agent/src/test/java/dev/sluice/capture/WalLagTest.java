package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The capture lag ({@code sluice_capture_wal_lag_seconds}) while one large transaction streams: the
 * age of that transaction, from its BEGIN's commit time, on an injected clock. Before, the lag was
 * timed from the last COMMIT read, so during a large transaction it showed the transaction before it
 * (an idle hour earlier: an hour of lag) or 0 when none came before.
 */
class WalLagTest {
  private static final int ITEMS = 16_384;

  private Clock clock = Clock.fixed(Instant.parse("2026-12-06T21:00:00Z"), ZoneOffset.UTC);
  private final WalKeys keys = new WalKeys("public", "items", List.of("id"));
  private final WalLag lag = new WalLag();
  private long lsn = 1_000;

  @Test
  void aLargeTransactionIsAsOldAsItsCommitAfterAnIdleHour() {
    take(relation());
    long a = commitTimeNow();
    transaction(a, 1, 10);
    lag.caughtUp(); // the stream went quiet with every key recorded
    assertEquals(0, lag.millis(clock.millis()));

    // An idle hour: only the reader's heartbeats (outside any transaction) come back.
    for (int i = 0; i < 360; i++) {
      pass(Duration.ofSeconds(10));
      take(new PgOutput.LogicalMessage(false, lsn++, "sluice.heartbeat", "x".getBytes(StandardCharsets.UTF_8)));
      lag.caughtUp();
    }
    assertEquals(0, lag.millis(clock.millis()), "heartbeats are no lag");

    // A transaction of 100,000 changes commits; the server decodes it for 90 s before its first change arrives.
    long b = commitTimeNow();
    pass(Duration.ofSeconds(90));
    take(new PgOutput.Begin(lsn + 100_000, b, 2));
    for (int i = 0; i < 50_000; i++) take(insert(i));
    assertEquals(Duration.ofSeconds(90).toMillis(), lag.millis(clock.millis()), "the large transaction's own age");
    pass(Duration.ofSeconds(30));
    for (int i = 50_000; i < 100_000; i++) take(insert(i));
    assertEquals(Duration.ofSeconds(120).toMillis(), lag.millis(clock.millis()), "it grows while the transaction streams");
    take(new PgOutput.Commit(lsn, lsn + 100_000, b));
    assertEquals(Duration.ofSeconds(120).toMillis(), lag.millis(clock.millis()), "read, not yet recorded");
    lag.caughtUp();
    assertEquals(0, lag.millis(clock.millis()));
  }

  @Test
  void theFirstTransactionAReaderReadsHasItsAge() {
    // A reader started (or restarted) behind the source: the first transaction it reads is a large one.
    take(relation());
    long t = commitTimeNow();
    pass(Duration.ofSeconds(45));
    take(new PgOutput.Begin(lsn + 1_000, t, 7));
    for (int i = 0; i < 500; i++) take(insert(i));
    assertEquals(Duration.ofSeconds(45).toMillis(), lag.millis(clock.millis()), "not 0: no transaction came before it");
  }

  private void transaction(long commitMicros, int xid, int changes) {
    take(new PgOutput.Begin(lsn + changes, commitMicros, xid));
    for (int i = 0; i < changes; i++) take(insert(i));
    take(new PgOutput.Commit(lsn + changes, lsn + changes + 1, commitMicros));
    lsn += changes + 2;
  }

  /** What the reader does with each message it reads. */
  private void take(PgOutput.Message m) {
    boolean was = keys.inTransaction();
    keys.accept(m);
    lag.took(keys, was);
  }

  private long commitTimeNow() {
    return clock.millis() * 1000 - PgOutput.PG_EPOCH_MICROS;
  }

  private void pass(Duration d) {
    clock = Clock.offset(clock, d);
  }

  private static PgOutput.Relation relation() {
    return new PgOutput.Relation(ITEMS, "public", "items", 'd',
        List.of(new PgOutput.Column("id", true, 20, -1), new PgOutput.Column("v", false, 23, -1)));
  }

  private static PgOutput.Insert insert(int id) {
    return new PgOutput.Insert(ITEMS, new PgOutput.Tuple(List.of(new PgOutput.Value(PgOutput.Kind.TEXT, String.valueOf(id)),
        new PgOutput.Value(PgOutput.Kind.TEXT, "0"))));
  }
}
