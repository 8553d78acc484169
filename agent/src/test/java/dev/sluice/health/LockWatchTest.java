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
  void aWaitConcernsTheJobsOwnTableTheLedgerOrARowLock() {
    assertTrue(LockWatch.concerns(wait("target", "public", "items", "relation", 1, 1, 1), ITEMS, true));
    assertFalse(LockWatch.concerns(wait("target", "public", "orders", "relation", 1, 1, 1), ITEMS, true), "another job's table");
    assertFalse(LockWatch.concerns(wait("target", "other", "items", "relation", 1, 1, 1), ITEMS, true), "another schema");
    assertTrue(LockWatch.concerns(wait("target", "sluice", "segments", "relation", 1, 1, 1), ITEMS, true), "the ledger holds every job");
    assertFalse(LockWatch.concerns(wait("source", "sluice", "changes", "relation", 1, 1, 1), ITEMS, false));
    assertTrue(LockWatch.concerns(wait("source", null, null, "transactionid", 1, 1, 1), ITEMS, false), "a row lock: any job");
  }
}
