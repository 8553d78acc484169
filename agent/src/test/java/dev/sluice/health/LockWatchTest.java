package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.TableName;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lock watch's pure parts: which waits hold up a job, and the sentence that says so. */
class LockWatchTest {
  private static final TableName ITEMS = new TableName("public", "items");

  private static LockWatch.Wait wait(String db, String schema, String rel, String type, int sessions, double seconds, Integer pid) {
    return new LockWatch.Wait(db, schema, rel, type, "RowExclusiveLock", sessions, seconds, pid, pid == null ? null : "psql",
        pid == null ? null : "idle in transaction", pid == null ? null : 20.4);
  }

  @Test
  void saysWhatIsWaitedForAndBehindWhom() {
    assertNull(LockWatch.describe(List.of()));
    assertEquals("waiting for a lock: 2 Sluice statements on the target want RowExclusiveLock on public.items (for 12 s), "
            + "blocked by pid 4242 (psql, idle in transaction, transaction open 20 s)",
        LockWatch.describe(List.of(wait("target", "public", "items", "relation", 2, 12.3, 4242))));
    assertEquals("waiting for a lock: 1 Sluice statement on the source wants a transactionid lock (for 3 s); and 1 more lock",
        LockWatch.describe(List.of(wait("source", null, null, "transactionid", 1, 3.0, null),
            wait("source", "public", "items", "relation", 1, 1.0, null))));
  }

  @Test
  void sessionsWaitingForOneLockAreOneWaitNamingTheBlockerThatIsNotSluice() {
    LockWatch.Wait insert = new LockWatch.Wait("target", "public", "items", "relation", "RowExclusiveLock", 1, 5.2, 4242, "psql",
        "active", 6.0);
    LockWatch.Wait verify = new LockWatch.Wait("target", "public", "items", "relation", "AccessShareLock", 1, 3.1, 5151,
        "sluice-target", "active", 9.0); // queued behind the insert, which waits too
    LockWatch.Wait other = new LockWatch.Wait("target", "public", "orders", "relation", "AccessShareLock", 1, 8.0, 6161, "app",
        "idle in transaction", 30.0);
    List<LockWatch.Wait> waits = LockWatch.group(List.of(insert, verify, other));
    assertEquals(2, waits.size());
    assertEquals("orders", waits.get(0).relation(), "the longest wait first");
    LockWatch.Wait items = waits.get(1);
    assertEquals("AccessShareLock, RowExclusiveLock", items.mode());
    assertEquals(2, items.sessions());
    assertEquals(5.2, items.seconds(), 1e-9);
    assertEquals(4242, items.blockerPid(), "the session holding the lock, not the Sluice statement queued before");
    assertEquals("waiting for a lock: 2 Sluice statements on the target want AccessShareLock, RowExclusiveLock on public.items "
        + "(for 5 s), blocked by pid 4242 (psql, active, transaction open 6 s)", LockWatch.describe(List.of(items)));
  }

  @Test
  void aWaitConcernsTheJobsOwnTableTheLedgerOrARowLock() {
    assertTrue(LockWatch.concerns(wait("target", "public", "items", "relation", 1, 1, 1), ITEMS, true));
    assertFalse(LockWatch.concerns(wait("target", "public", "orders", "relation", 1, 1, 1), ITEMS, true), "another job's table");
    assertFalse(LockWatch.concerns(wait("target", "other", "items", "relation", 1, 1, 1), ITEMS, true), "another schema");
    assertTrue(LockWatch.concerns(wait("target", "sluice", "segments", "relation", 1, 1, 1), ITEMS, true), "the ledger holds every job");
    assertFalse(LockWatch.concerns(wait("source", "sluice", "changes", "relation", 1, 1, 1), ITEMS, false));
    assertTrue(LockWatch.concerns(wait("source", null, null, "transactionid", 1, 1, 1), ITEMS, false), "a row lock: any job");
  }
}
