package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A database's (or role's) own defaults for settings that change how values are read and printed
 * apply to Sluice's sessions too unless they pin them. With the target's {@code xmloption} set to
 * {@code document}, an XML content fragment the source holds ({@code 'text<b/>'}, valid as
 * {@code content}, PostgreSQL's default) is refused when the row path or the applier writes it as
 * text: the job parked every segment with "invalid XML document". With {@code array_nulls = off} an
 * array's unquoted NULL element is read as the text {@code NULL}. Every Sluice session now pins
 * {@code xmloption}, {@code lc_monetary} and {@code array_nulls}, on the row path and the COPY path.
 */
class DatabaseDefaultsTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aTargetWhoseDefaultXmlOptionIsDocumentStillTakesContentFragments() {
    String src = pg.createDatabase("dd_src");
    String tgt = pg.createDatabase("dd_tgt");
    String rows = "SELECT g, ('text ' || g || '<b>' || g || '</b> tail')::xml, (g * 1.25)::numeric::money, "
        + "ARRAY['a' || g, NULL, 'NULL'], CASE WHEN g % 2 = 0 THEN ARRAY[g, NULL] END FROM generate_series(1, 3000) g";
    pg.exec(src, "CREATE TABLE notes (id bigint PRIMARY KEY, body xml, price money, tags text[], nums int[])", "INSERT INTO notes " + rows,
        "CREATE TABLE notes2 (LIKE notes INCLUDING ALL)", "INSERT INTO notes2 " + rows,
        "ALTER DATABASE " + src + " SET xmloption = document", "ALTER DATABASE " + src + " SET lc_monetary = 'C.utf8'",
        "ALTER DATABASE " + src + " SET array_nulls = off");
    pg.exec(tgt, "ALTER DATABASE " + tgt + " SET xmloption = document", "ALTER DATABASE " + tgt + " SET lc_monetary = 'C.utf8'",
        "ALTER DATABASE " + tgt + " SET array_nulls = off");
    // The row path and the COPY path.
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, """
        {"name": "notes", "source": {"table": "public.notes", "key": ["id"]},
         "target": {"table": "public.notes", "create": true}, "mode": "rows",
         "segment": {"rows": 1000}, "batch": {"rows": 500}, "capture": {"enabled": false}},
        {"name": "notes2", "source": {"table": "public.notes2", "key": ["id"]},
         "target": {"table": "public.notes2", "create": true},
         "segment": {"rows": 1000}, "capture": {"enabled": false}}"""));
    for (String t : new String[] {"notes", "notes2"}) {
      assertEquals(JobState.COMPLETED, states.get(t), t);
      String q = "SELECT id || ' ' || body::text || ' ' || price::numeric || ' ' || tags::text || ' ' || coalesce(nums::text, '-') "
          + "|| ' ' || (tags[2] IS NULL) || (tags[3] IS NULL) FROM " + t + " ORDER BY id";
      assertEquals(3000, Tables.assertSameRows(pg, src, q, tgt, q));
      assertEquals(3000, pg.scalar(tgt, "SELECT count(*) FROM " + t + " WHERE tags[2] IS NULL AND tags[3] = 'NULL'"), t);
      LedgerChecks.assertAllVerified(pg, tgt, t, 3000);
    }
  }
}
