package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A text key whose column sorts by a collation other than the target database's default. Segments
 * are key ranges planned in the source column's order; the table Sluice creates on the target used
 * to take the target's default collation, so a range read back, purged or verified there held other
 * rows: verification failed on rows that were fine and a retry's purge deleted rows of segments
 * already verified. The created key column now sorts as the source's does.
 */
class KeyCollationMigrationTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aCreatedTargetKeySortsAsTheSourceKey() {
    String src = pg.createDatabase("kcmsrc");
    String tgt = pg.createDatabase("kcmtgt");
    pg.exec(src, "CREATE TABLE items (code text COLLATE \"en-x-icu\" PRIMARY KEY, v int)",
        "INSERT INTO items SELECT CASE WHEN g % 2 = 0 THEN upper(md5(g::text)) ELSE md5(g::text) END || '-' || g, g "
            + "FROM generate_series(1, 12000) g",
        "INSERT INTO items VALUES ('a', 0), ('B', 0), ('_c', 0), ('d-e', 0), ('Zürich', 0), ('zebra', 0), ('', 0)");
    assertTrue(pg.scalar(src, "SELECT count(*) FROM (SELECT code, row_number() OVER (ORDER BY code) a, "
        + "row_number() OVER (ORDER BY code COLLATE \"default\") b FROM items) x WHERE a <> b") > 5000, "the two orders differ");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["code"]}, "target": {"table": "public.items", "create": true},
         "segment": {"rows": 2000}, "batch": {"rows": 500}, "concurrency": {"max": 3}}"""));
    assertEquals(JobState.COMPLETED, states.get("items"));
    assertEquals(7, LedgerChecks.assertAllVerified(pg, tgt, "items", 12_007));
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'items' AND kind IN ('segment.retry', 'segment.failed')"),
        "no segment failed its verification");
    long n = Tables.assertSameRows(pg, src, "SELECT row(code, v)::text FROM items ORDER BY code COLLATE \"C\"",
        tgt, "SELECT row(code, v)::text FROM items ORDER BY code COLLATE \"C\"");
    assertEquals(12_007, n);
    assertEquals("0", pg.string(tgt, "SELECT count(*)::text FROM (SELECT code, row_number() OVER (ORDER BY code) a, "
        + "row_number() OVER (ORDER BY code COLLATE \"en-x-icu\") b FROM items) x WHERE a <> b"), "the created key column sorts as the source's");
  }
}
