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
 * A target column of a narrower type than its source column, mapped plainly. Every value is cast to
 * the target type on the source and both sides hash the cast value, so an explicit cast that loses
 * information verified: found black-box, {@code 'abcdefghij'} arrived in a {@code varchar(3)} as
 * {@code 'abc'}, {@code 100000.000001} in a {@code numeric(12,2)} key as {@code 100000.00}, and the job
 * completed. A value that changes in the cast is now data drift (its segment parked with the row, the
 * job paused), as a value out of range always was; values that fit copy as before.
 */
class NarrowingTypesTest {
  private final TestPg pg = TestPg.get();

  private static final String SOURCE = "CREATE TABLE %s (k numeric PRIMARY KEY, s text, f float8, ts timestamptz, b varbit)";
  private static final String TARGET = "CREATE TABLE %s (k numeric(12, 2) PRIMARY KEY, s varchar(3), f real, ts timestamp(0), b bit(4))";

  @Test
  void aValueTheTargetTypeWouldChangeIsDataDriftNotACopy() {
    String src = pg.createDatabase("narrow_src");
    String tgt = pg.createDatabase("narrow_tgt");
    for (String t : new String[] {"fits", "lossy_text", "lossy_key"}) {
      pg.exec(src, SOURCE.formatted(t), "INSERT INTO " + t + " SELECT g / 4.0, 'ab', 0.5, '2026-01-01 10:00:00+00', B'1010' "
          + "FROM generate_series(1, 500) g");
      pg.exec(tgt, TARGET.formatted(t));
    }
    pg.exec(src, "UPDATE lossy_text SET s = 'abcdefghij' WHERE k = 100", "INSERT INTO lossy_key VALUES (100000.000001, 'x', 0.5, NULL, NULL)");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, """
        {"name": "fits", "source": {"table": "fits", "key": ["k"]}, "target": {"table": "fits"}, "capture": {"enabled": false}},
        {"name": "lossy_text", "source": {"table": "lossy_text", "key": ["k"]}, "target": {"table": "lossy_text"},
         "capture": {"enabled": false}, "retry": {"maxAttempts": 1}},
        {"name": "lossy_key", "source": {"table": "lossy_key", "key": ["k"]}, "target": {"table": "lossy_key"},
         "capture": {"enabled": false}, "retry": {"maxAttempts": 1}}"""));
    assertEquals(JobState.COMPLETED, states.get("fits"));
    String q = "SELECT k::numeric(12, 2)::text, s, f::real::text, ts::timestamp::text, b::text FROM fits ORDER BY k";
    assertEquals(500, Tables.assertSameRows(pg, src, q, tgt, q));
    for (String[] lossy : new String[][] {{"lossy_text", "column s: "}, {"lossy_key", "column k: "}}) {
      assertEquals(JobState.FAILED, states.get(lossy[0]), lossy[0]);
      String error = pg.string(tgt, "SELECT string_agg(last_error, ' | ') FROM sluice.segments WHERE job = '" + lossy[0] + "'");
      assertTrue(error != null && error.contains(lossy[1]) && error.contains("changes when cast to"), lossy[0] + ": " + error);
    }
  }
}
