package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.TestPg;

/** Assertions on the ledger a finished migration leaves in the target database. */
public final class LedgerChecks {
  private LedgerChecks() {}

  /** A test config: one source, one target, no HTTP, short leases, the given job objects. */
  public static String config(TestPg pg, String src, String tgt, String jobs) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2},
         "jobs": [%s]}""".formatted(pg.url(src), pg.url(tgt), jobs);
  }

  /**
   * The job is completed; every segment is verified with equal counts and hashes on both sides, owns
   * no lease, and the segments together copied {@code rows} rows. Returns the number of segments.
   */
  public static long assertAllVerified(TestPg pg, String tgt, String job, long rows) {
    assertEquals("completed", pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = '" + job + "'"), "job state");
    long segments = pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = '" + job + "'");
    assertTrue(segments >= 1, "at least one segment");
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = '" + job + "' AND (state <> 'verified' "
        + "OR source_rows IS DISTINCT FROM target_rows OR source_hash IS DISTINCT FROM target_hash OR rows_copied <> target_rows "
        + "OR owner IS NOT NULL OR lease_expires_at IS NOT NULL)"), "segments not verified, unequal, or still leased: "
        + pg.strings(tgt, "SELECT row(seq, state, source_rows, target_rows, owner)::text FROM sluice.segments WHERE job = '" + job
            + "' AND state <> 'verified'"));
    assertEquals(rows, pg.scalar(tgt, "SELECT coalesce(sum(rows_copied), 0) FROM sluice.segments WHERE job = '" + job + "'"),
        "rows copied according to the ledger");
    assertEquals(segments, pg.scalar(tgt, "SELECT segments_planned FROM sluice.jobs WHERE name = '" + job + "'"), "segments planned");
    // The plan covers the whole key space: one open start, one open end, and every segment's upper
    // bound is exactly one other segment's lower bound (in any seq order: splits append new seqs).
    String j = "'" + job + "'";
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = " + j + " AND lower_bound IS NULL"), "one open start");
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = " + j + " AND upper_bound IS NULL"), "one open end");
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments a WHERE a.job = " + j + " AND a.upper_bound IS NOT NULL "
        + "AND (SELECT count(*) FROM sluice.segments b WHERE b.job = a.job AND b.lower_bound = a.upper_bound) <> 1"),
        "segments must tile the key space");
    assertEquals(segments - 1, pg.scalar(tgt, "SELECT max(seq) FROM sluice.segments WHERE job = '" + job + "'"), "segment numbering");
    // Every segment's verification left its audit event, and the job's completion too.
    assertEquals(segments, pg.scalar(tgt, "SELECT count(DISTINCT segment) FROM sluice.events WHERE job = '" + job
        + "' AND kind = 'segment.verified'"), "segment.verified events");
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = '" + job + "' AND kind = 'job.completed'"),
        "job.completed events");
    return segments;
  }
}
