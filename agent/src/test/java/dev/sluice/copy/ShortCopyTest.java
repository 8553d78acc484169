package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.JobState;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A copy that read far fewer rows than planned is counted again, and copied again when the range holds more. */
class ShortCopyTest {
  private final TestPg pg = TestPg.get();

  @Test
  void onlyAWholeCopyOfLessThanHalfANonTrivialPlanIsSuspect() {
    assertTrue(ShortCopy.suspect(2000, 0));
    assertTrue(ShortCopy.suspect(2000, 999));
    assertFalse(ShortCopy.suspect(2000, 1000));
    assertFalse(ShortCopy.suspect(99, 0), "a small plan is not worth a second read");
    assertTrue(ShortCopy.suspect(100, 49));
  }

  @Test
  void aSuspectCopyFailedOnlyWhenTheRangeHoldsAtLeastHalfThePlanAndTwiceTheCopy() {
    assertTrue(ShortCopy.failed(2000, 0, 2000), "a hollow snapshot: nothing copied, the range is full");
    assertTrue(ShortCopy.failed(2000, 0, 1000));
    assertFalse(ShortCopy.failed(2000, 0, 999), "rows deleted since planning: both low");
    assertFalse(ShortCopy.failed(2000, 300, 310), "a few rows inserted since the copy");
    assertFalse(ShortCopy.failed(2000, 900, 1500), "fewer than twice the copy: churn, not a hollow read");
    assertTrue(ShortCopy.failed(2000, 500, 1000));
  }

  /**
   * A row filter true in a fresh READ COMMITTED statement and false in the reader's REPEATABLE READ
   * transaction: every copy reads nothing of a full range, as a snapshot older than a table rewrite
   * would. Each attempt is refused with the reason, and the segment is parked when the retries run out.
   */
  @Test
  void aCopyThatReadsNothingOfAFullRangeIsRetriedThenParkedWithTheReason() {
    String src = pg.createDatabase("short_src");
    String tgt = pg.createDatabase("short_tgt");
    pg.exec(src, "CREATE TABLE items (id int PRIMARY KEY, v text)", "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 1000) g");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"],
                                     "where": "current_setting('transaction_isolation') = 'read committed'"},
         "target": {"table": "public.items", "create": true}, "segment": {"rows": 500}, "capture": {"enabled": false},
         "retry": {"maxAttempts": 2, "baseDelayMs": 10, "maxDelayMs": 20}}"""));
    assertEquals(JobState.FAILED, states.get("items"));
    assertEquals(2, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'failed' "
        + "AND last_error LIKE '%the copy read 0 of 500 planned rows, but a fresh count of the range finds 500%'"),
        String.join("\n", pg.strings(tgt, "SELECT row(seq, state, last_error)::text FROM sluice.segments")));
    assertTrue(pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind = 'segment.retry' "
        + "AND message LIKE '%fresh count of the range finds 500%'") >= 2);
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state = 'verified'"));
  }
}
