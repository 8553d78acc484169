package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The stall decision on an injected clock: only waits on a database count, and any progress restarts the wait. */
class StallWatchTest {
  private static final long S = 1_000_000_000L;

  @Test
  void aSideWaitingOnItsDatabaseWithNoProgressForTheTimeoutStalls() {
    StallWatch w = new StallWatch(60 * S);
    StallWatch.Probe src = w.probe(StallWatch.Side.SOURCE);
    src.waiting("reading rows of the COPY");
    assertNull(w.check(0));
    assertNull(w.check(59 * S));
    StallWatch.Stall stall = w.check(60 * S);
    assertNotNull(stall);
    assertEquals(StallWatch.Side.SOURCE, stall.side());
    assertEquals("the source stalled: no answer for 60.0 s while reading rows of the COPY (sessions.stallTimeoutMs 60000);"
        + " its sessions were aborted", stall.reason());
    assertNotNull(w.check(61 * S), "still stalled at the next tick");
  }

  @Test
  void progressRestartsTheWait() {
    StallWatch w = new StallWatch(10 * S);
    StallWatch.Probe tgt = w.probe(StallWatch.Side.TARGET);
    tgt.waiting("writing rows into the COPY");
    assertNull(w.check(0));
    tgt.progress(); // a slice taken: slow, but alive
    assertNull(w.check(9 * S));
    assertNull(w.check(18 * S), "9 s since the progress was seen");
    StallWatch.Stall stall = w.check(19 * S);
    assertNotNull(stall);
    assertEquals("the target stalled: no answer for 10.0 s while writing rows into the COPY (sessions.stallTimeoutMs 10000);"
        + " its sessions were aborted", stall.reason());
  }

  @Test
  void waitsOnSluiceItselfAreNotTimed() {
    StallWatch w = new StallWatch(10 * S);
    StallWatch.Probe src = w.probe(StallWatch.Side.SOURCE);
    StallWatch.Probe tgt = w.probe(StallWatch.Side.TARGET);
    src.waiting("reading rows of the COPY");
    tgt.idle(); // waiting for a chunk
    assertNull(w.check(0));
    src.idle(); // the window is full: the pacer, the gate or the target holds the source back
    assertNull(w.check(5 * S));
    assertNull(w.check(500 * S), "a stream held back on purpose for minutes never stalls");
    src.waiting("reading rows of the COPY");
    assertNull(w.check(501 * S));
    assertNull(w.check(510 * S));
    assertNotNull(w.check(511 * S), "the wait on the source is timed again from when it began");
  }

  @Test
  void aNewWaitIsProgressOfTheLastOne() {
    StallWatch w = new StallWatch(10 * S);
    StallWatch.Probe tgt = w.probe(StallWatch.Side.TARGET);
    tgt.waiting("starting the COPY");
    assertNull(w.check(0));
    assertNull(w.check(9 * S));
    tgt.waiting("writing rows into the COPY");
    assertNull(w.check(15 * S));
    StallWatch.Stall stall = w.check(25 * S);
    assertNotNull(stall);
    assertEquals("writing rows into the COPY", stall.waitingFor());
    assertEquals(10 * S, stall.nanos());
  }

  @Test
  void theTickIsAQuarterOfTheTimeoutWithinBounds() {
    assertEquals(500, new StallWatch(2 * S).tickMs());
    assertEquals(1000, new StallWatch(60 * S).tickMs());
    assertEquals(250, new StallWatch(S).tickMs());
    assertThrows(IllegalArgumentException.class, () -> new StallWatch(0));
  }
}
