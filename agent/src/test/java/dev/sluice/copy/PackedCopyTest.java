package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.JobState;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The packed path end to end: values whose array text needs quoting, escaping or nesting survive the
 * source's {@code array_agg(..)::text} and the target's {@code array_in}; keyset pages follow a
 * composite key across a cut; a first attempt's plain insert that meets a row falls back to upsert
 * (through the agent and server-side).
 */
class PackedCopyTest {
  private final TestPg pg = TestPg.get();

  private static final String TYPES = """
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy ,"{x}"');
      CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 100)""";

  private static final String COLUMNS = "tenant, id, c_ints, c_texts, c_grid, c_mood, c_dom, c_char, c_inet, c_ival, c_json, "
      + "c_box, c_float, c_time, c_bits, c_bytea";

  @Test
  void awkwardValuesSurviveThePackedArraysAcrossPagesAndACut() {
    String src = pg.createDatabase("packed_src");
    String tgt = pg.createDatabase("packed_tgt");
    pg.exec(tgt, TYPES);
    pg.exec(src, TYPES, """
        CREATE TABLE items (tenant text NOT NULL, id int NOT NULL, c_ints int[], c_texts text[], c_grid int[], c_mood mood,
          c_dom short_text, c_char char(5), c_inet inet, c_ival interval, c_json json, c_box box, c_float float8, c_time timetz,
          c_bits varbit, c_bytea bytea, PRIMARY KEY (tenant, id))""", """
        INSERT INTO items SELECT (ARRAY['a', 'A "q"', E'b\\\\s', 'NULL', '', '日本 🙂', '{x,y}'])[1 + g % 7], g / 7 - 100,
          CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '{}' WHEN 2 THEN ARRAY[NULL, g]::int[] ELSE ARRAY[g, -g, g % 3] END,
          CASE g % 4 WHEN 0 THEN NULL ELSE ARRAY['NULL', NULL, '', 'a,b', E'q"u\\\\o''t', '{}', ' sp ', 'Ä' || g] END,
          CASE WHEN g % 3 = 0 THEN '{{1,2},{3,NULL}}'::int[] WHEN g % 3 = 1 THEN '[0:1]={7,8}'::int[] END,
          (enum_range(NULL::mood))[1 + g % 3],
          CASE WHEN g % 6 = 0 THEN NULL ELSE E'dom\\t' || g END,
          CASE WHEN g % 2 = 0 THEN 'ab' ELSE 'abcde' END,
          CASE WHEN g % 2 = 0 THEN '10.0.0.1/32'::inet ELSE '::1/64'::inet END,
          g * interval '1 day 2 hours 3.5 s' - interval '3 years',
          CASE WHEN g % 8 = 0 THEN NULL ELSE ('{ "k" : ' || g || ', "k": "dup", "s": "a\\"b" }')::json END,
          box(point(g, -g), point(0.5, 1e-3)),
          (ARRAY['NaN', 'Infinity', '-Infinity', '-0', '1e-310', '0.1'])[1 + g % 6]::float8 * CASE WHEN g % 12 < 6 THEN 1 ELSE 1.5 END,
          '23:59:59.999999+05:30'::timetz,
          (g % 256)::bit(8)::varbit,
          CASE WHEN g % 9 = 0 THEN NULL ELSE E'\\\\x5c2c7b7d22'::bytea || int4send(g) END
        FROM generate_series(1, 3000) g""");
    // One segment longer than the 1 s transaction cap at 2,000 rows/s: cut at a composite key, twice or more.
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["tenant", "id"]},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": 3000, "maxSeconds": 1}, "batch": {"rows": 150, "minRows": 100},
         "pace": {"rowsPerSecond": 2000, "burstRows": 150}, "concurrency": {"max": 1}}"""));
    assertEquals(JobState.COMPLETED, states.get("items"));
    String q = "SELECT row(" + COLUMNS + ")::text FROM items ORDER BY tenant, id";
    assertEquals(3000, Tables.assertSameRows(pg, src, q, tgt, q));
    // Dimensions and lower bounds of the nested arrays, which row text alone would show too, checked plainly.
    String dims = "SELECT string_agg(coalesce(array_dims(c_grid), '-'), ' ' ORDER BY tenant, id) FROM items";
    assertEquals(pg.string(src, dims), pg.string(tgt, dims));
    long cuts = pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'segment.split'");
    assertTrue(cuts >= 1, "the segment was cut: " + cuts);
    LedgerChecks.assertAllVerified(pg, tgt, "items", 3000);
  }

  @Test
  void aFirstAttemptThatMeetsARowFallsBackToPurgeAndUpsert() {
    String src = pg.createDatabase("conflict_src");
    fallsBack(src, pg.createDatabase("conflict_tgt"), "items", "client");
  }

  @Test
  void aServerSideFirstAttemptThatMeetsARowFallsBackToo() {
    String db = pg.createDatabase("conflict_same");
    fallsBack(db, db, "items_copy", "server");
  }

  private void fallsBack(String src, String tgt, String table, String mode) {
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
    // A row already in the target under a key the copy will write: the plain insert meets it (23505).
    pg.exec(tgt, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, name text)", "INSERT INTO " + table + " VALUES (1500, 'stale')");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "mode": "%s",
         "target": {"table": "public.%s"}, "segment": {"rows": 1000}, "batch": {"rows": 200}}""".formatted(mode, table)));
    assertEquals(JobState.COMPLETED, states.get("items"));
    assertEquals(2000, Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name)::text FROM " + table + " ORDER BY id"));
    LedgerChecks.assertAllVerified(pg, tgt, "items", 2000);
    // Handled inside the first attempt: no retry, no re-copy after a failed verification.
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE attempts <> 1"));
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE kind = 'segment.retry' OR message LIKE '%re-copying%'"));
  }
}
