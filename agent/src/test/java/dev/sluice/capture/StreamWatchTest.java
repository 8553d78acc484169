package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The stall decision on a WAL reader's stream and capture session, on an injected clock (ns). */
class StreamWatchTest {
  private static final long S = 1_000_000_000L;
  private final StreamWatch watch = new StreamWatch(10 * S);

  @Test
  void aQuietStreamWithoutAHeartbeatIsNeverSuspect() {
    assertFalse(watch.due(0));
    assertFalse(watch.due(3_600 * S), "silence alone proves nothing: no heartbeat was asked to come back");
    assertNull(watch.check(3_600 * S));
  }

  @Test
  void silentAfterAHeartbeatIsSuspectAfterExactlyTheTimeout() {
    watch.heartbeatSent(100 * S);
    watch.heartbeatAt(5_000);
    assertFalse(watch.due(110 * S - 1));
    assertTrue(watch.due(110 * S));
    // a later heartbeat while still silent does not move the window
    watch.heartbeatSent(105 * S);
    assertTrue(watch.due(110 * S));
  }

  @Test
  void anythingReceivedResetsTheWindow() {
    watch.heartbeatSent(100 * S);
    watch.received();
    assertFalse(watch.due(200 * S));
    watch.heartbeatSent(200 * S);
    assertFalse(watch.due(209 * S));
    assertTrue(watch.due(210 * S));
  }

  @Test
  void noSenderOnTheSlotIsAStall() {
    watch.heartbeatSent(0);
    watch.heartbeatAt(5_000);
    StreamWatch.Stall stall = watch.judge(10 * S, false, null, false);
    assertNotNull(stall);
    assertEquals("the source's replication stream stalled: nothing received for 10.0 s (the server has no sender on the slot)"
        + " (sessions.stallTimeoutMs 10000); reconnecting", stall.reason());
  }

  @Test
  void aSenderBusyDecodingIsHealthyAsLongAsItMoves() {
    watch.heartbeatSent(0);
    watch.heartbeatAt(5_000);
    assertNull(watch.judge(10 * S, true, 1_000L, false), "the sender is before the heartbeat: busy, the window starts again");
    assertFalse(watch.due(19 * S));
    assertTrue(watch.due(20 * S));
    assertNull(watch.judge(20 * S, true, 2_000L, false), "it moved since the last ask");
    assertTrue(watch.due(30 * S));
    StreamWatch.Stall stall = watch.judge(30 * S, true, 2_000L, false);
    assertNotNull(stall, "it did not move for a whole timeout");
    assertTrue(stall.reason().contains("nothing received for 30.0 s (the server's sender did not move and waits)"), stall.reason());
  }

  @Test
  void aSenderThatStandsStillButWorksIsBusyNotStalled() {
    watch.heartbeatSent(0);
    watch.heartbeatAt(5_000);
    assertNull(watch.judge(10 * S, true, 1_000L, true));
    assertNull(watch.judge(20 * S, true, 1_000L, true), "replaying a large transaction at its commit: the position stands, the process works");
    assertNull(watch.judge(30 * S, true, 1_000L, true));
    assertNotNull(watch.judge(40 * S, true, 1_000L, false), "then it waits (on the client) without having moved: stalled");
  }

  @Test
  void withoutTheSendersPositionTwoAsksFindingItIdleAreAStall() {
    watch.heartbeatSent(0);
    watch.heartbeatAt(5_000);
    assertNull(watch.judge(10 * S, true, null, true), "the role may not see sent_lsn; the sender works");
    assertNull(watch.judge(20 * S, true, null, false), "idle at one ask only");
    assertNull(watch.judge(30 * S, true, null, true));
    assertNull(watch.judge(40 * S, true, null, false));
    StreamWatch.Stall stall = watch.judge(50 * S, true, null, false);
    assertNotNull(stall, "idle at two asks in a row, and still nothing");
    assertTrue(stall.reason().contains("nothing received for 50.0 s (the server's sender did not move and waits)"), stall.reason());
  }

  @Test
  void anEchoSentButNeverArrivedIsAStallOneTimeoutLater() {
    watch.heartbeatSent(0);
    watch.heartbeatAt(5_000);
    assertNull(watch.judge(10 * S, true, 5_000L, false), "just at the heartbeat's end: its echo may be on its way");
    watch.heartbeatSent(12 * S);
    watch.heartbeatAt(7_000); // a later heartbeat: the first one without an echo still counts
    StreamWatch.Stall stall = watch.judge(20 * S, true, 8_000L, false);
    assertNotNull(stall, "past the heartbeat a timeout ago, and still nothing");
    assertTrue(stall.reason().contains("it never arrived"), stall.reason());
  }

  @Test
  void anEchoThatArrivesAfterTheAskEndsTheSuspicion() {
    watch.heartbeatSent(0);
    watch.heartbeatAt(5_000);
    assertNull(watch.judge(10 * S, true, 6_000L, false));
    watch.received();
    assertFalse(watch.due(100 * S));
  }

  @Test
  void anUnansweredStatementIsAStallAfterExactlyTheTimeout() {
    watch.waiting("recording keys", 50 * S);
    assertNull(watch.check(60 * S - 1));
    StreamWatch.Stall stall = watch.check(60 * S);
    assertNotNull(stall);
    assertEquals("the source's capture session stalled: no answer while recording keys for 10.0 s (sessions.stallTimeoutMs 10000);"
        + " reconnecting", stall.reason());
    watch.answered();
    assertNull(watch.check(1_000 * S));
  }

  @Test
  void heartbeatsComeAtLeastOnceATimeoutAndTheTimerTicksAQuarterOfIt() {
    assertEquals(10 * S, watch.heartbeatNanos(30 * S));
    assertEquals(5 * S, watch.heartbeatNanos(5 * S));
    assertEquals(1000, watch.tickMs());
    assertEquals(500, new StreamWatch(2 * S).tickMs());
    assertEquals(100, new StreamWatch(S / 10).tickMs());
  }
}
