package dev.sluice.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.ledger.JobState;
import org.junit.jupiter.api.Test;

class SyncGaugeTest {
  private final SyncGauge gauge = new SyncGauge(100);

  @Test
  void inSyncOnceTheBacklogIsSmall() {
    assertEquals(SyncGauge.Move.NONE, gauge.next(JobState.CATCHING_UP, 101));
    assertEquals(SyncGauge.Move.IN_SYNC, gauge.next(JobState.CATCHING_UP, 100));
    assertEquals(SyncGauge.Move.NONE, gauge.next(JobState.CATCHING_UP, -1), "not measured yet");
  }

  @Test
  void fallsBehindOnlyWellPastTheThreshold() {
    assertEquals(SyncGauge.Move.NONE, gauge.next(JobState.IN_SYNC, 900));
    assertEquals(SyncGauge.Move.NONE, gauge.next(JobState.IN_SYNC, 1000));
    assertEquals(SyncGauge.Move.CATCHING_UP, gauge.next(JobState.IN_SYNC, 1001));
    assertEquals(SyncGauge.Move.NONE, gauge.next(JobState.COPYING, 0), "copying is left by the copy, not the backlog");
  }
}
