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
 * text: the job parked every segment with "invalid XML document". Every Sluice session now pins
 * {@code xmloption} and {@code lc_monetary}, as the COPY path's sessions already did.
 */
class DatabaseDefaultsTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aTargetWhoseDefaultXmlOptionIsDocumentStillTakesContentFragments() {
    String src = pg.createDatabase("dd_src");
    String tgt = pg.createDatabase("dd_tgt");
    pg.exec(src, "CREATE TABLE notes (id bigint PRIMARY KEY, body xml, price money)",
        "INSERT INTO notes SELECT g, ('text ' || g || '<b>' || g || '</b> tail')::xml, (g * 1.25)::numeric::money FROM generate_series(1, 3000) g",
        "ALTER DATABASE " + src + " SET xmloption = document", "ALTER DATABASE " + src + " SET lc_monetary = 'C.utf8'");
    pg.exec(tgt, "ALTER DATABASE " + tgt + " SET xmloption = document", "ALTER DATABASE " + tgt + " SET lc_monetary = 'C.utf8'");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, """
        {"name": "notes", "source": {"table": "public.notes", "key": ["id"]},
         "target": {"table": "public.notes", "create": true}, "mode": "rows",
         "segment": {"rows": 1000}, "batch": {"rows": 500}, "capture": {"enabled": false}}"""));
    assertEquals(JobState.COMPLETED, states.get("notes"));
    String q = "SELECT id || ' ' || body::text || ' ' || price::numeric FROM notes ORDER BY id";
    assertEquals(3000, Tables.assertSameRows(pg, src, q, tgt, q));
    LedgerChecks.assertAllVerified(pg, tgt, "notes", 3000);
  }
}
