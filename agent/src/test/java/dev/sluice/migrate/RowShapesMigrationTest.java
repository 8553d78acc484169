package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Migrations that exercise what travels: every common column type with NULLs, a row filter, computed columns, no rows. */
class RowShapesMigrationTest {
  private final TestPg pg = TestPg.get();

  private String migrate(String src, String job) {
    String tgt = pg.createDatabase("tgt");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, job));
    assertEquals(JobState.COMPLETED, states.get("items"));
    return tgt;
  }

  private static final String ALL_COLUMNS = "id, c_int2, c_int4, c_int8, c_num, c_num_free, c_text, c_varchar, c_bool, c_date, "
      + "c_ts, c_tstz, c_uuid, c_jsonb, c_bytea";

  @Test
  void everyCommonTypeWithNullsInEveryColumn() {
    String src = pg.createDatabase("src");
    pg.exec(src, """
        CREATE TABLE items (
          id bigint PRIMARY KEY, c_int2 smallint, c_int4 int, c_int8 bigint, c_num numeric(20, 6), c_num_free numeric,
          c_text text, c_varchar varchar(40), c_bool boolean, c_date date, c_ts timestamp, c_tstz timestamptz,
          c_uuid uuid, c_jsonb jsonb, c_bytea bytea)""",
        // Each column is NULL on its own stride of rows, so every column has NULLs next to values.
        """
        INSERT INTO items SELECT g,
          CASE WHEN g % 11 = 1 THEN NULL ELSE (g % 65536 - 32768)::smallint END,
          CASE WHEN g % 13 = 2 THEN NULL ELSE g * 7919 % 2147483647 - 1073741823 END,
          CASE WHEN g % 17 = 3 THEN NULL ELSE g::bigint * 92233720368547 END,
          CASE WHEN g % 19 = 4 THEN NULL ELSE round((g * 1.000001 - 50000)::numeric, 6) END,
          CASE WHEN g % 23 = 5 THEN NULL WHEN g % 5 = 0 THEN 'NaN'::numeric ELSE (g::numeric / 7) END,
          CASE WHEN g % 29 = 6 THEN NULL WHEN g % 7 = 0 THEN '' WHEN g % 7 = 1 THEN 'NULL'
               WHEN g % 7 = 2 THEN E'quote\\' "dq" back\\\\slash, comma {brace}\\nnewline\\ttab'
               ELSE 'text ' || g || ' Ä 日本 🙂' END,
          CASE WHEN g % 31 = 7 THEN NULL ELSE left(md5(g::text), (g % 40)) END,
          CASE WHEN g % 37 = 8 THEN NULL ELSE g % 2 = 0 END,
          CASE WHEN g % 41 = 9 THEN NULL WHEN g % 1000 = 0 THEN '0044-03-15 BC'::date WHEN g % 1000 = 1 THEN 'infinity'::date
               ELSE date '2000-01-01' + (g % 20000) END,
          CASE WHEN g % 43 = 10 THEN NULL WHEN g % 1000 = 2 THEN '-infinity'::timestamp
               ELSE timestamp '1999-12-31 23:59:59.999999' + g * interval '1 minute 0.000123 s' END,
          CASE WHEN g % 47 = 11 THEN NULL ELSE timestamptz '2020-06-01 12:00:00+02' + g * interval '1.5 s' END,
          CASE WHEN g % 53 = 12 THEN NULL ELSE md5(g::text)::uuid END,
          CASE WHEN g % 59 = 13 THEN NULL WHEN g % 59 = 14 THEN 'null'::jsonb
               ELSE jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g % 3, NULL), 's', E'x"y\\\\z', 'f', g / 3.0) END,
          CASE WHEN g % 61 = 15 THEN NULL WHEN g % 61 = 16 THEN ''::bytea
               ELSE decode(md5(g::text), 'hex') || '\\x00ff'::bytea END
        FROM generate_series(1, 20000) g""",
        "INSERT INTO items (id) VALUES (0)"); // and one row that is NULL everywhere but the key
    for (String c : ALL_COLUMNS.substring(4).split(", ")) {
      assertEquals(1, pg.scalar(src, "SELECT (count(*) > 100 AND count(*) < 20000)::int FROM items WHERE " + c + " IS NULL"), c + " has NULLs");
    }
    String tgt = migrate(src, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": 5000}, "batch": {"rows": 1000}, "concurrency": {"max": 2}}""");
    String q = "SELECT row(" + ALL_COLUMNS + ")::text FROM items ORDER BY id";
    assertEquals(20_001, Tables.assertSameRows(pg, src, q, tgt, q));
    LedgerChecks.assertAllVerified(pg, tgt, "items", 20_001);
    // The created target has the source's types, not text.
    String types = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 ORDER BY attnum";
    assertEquals(pg.strings(src, types), pg.strings(tgt, types));
  }

  @Test
  void whereMigratesOnlyTheSubset() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, status text NOT NULL, total numeric(12, 2))",
        "INSERT INTO items SELECT g, (ARRAY['new', 'paid', 'draft'])[1 + g % 3], g / 100.0 FROM generate_series(1, 30000) g");
    String tgt = migrate(src, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"], "where": "status <> 'draft'"},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": 5000}, "concurrency": {"max": 3}}""");
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, status, total)::text FROM items WHERE status <> 'draft' ORDER BY id",
        tgt, "SELECT row(id, status, total)::text FROM items ORDER BY id");
    assertEquals(20_000, n);
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items WHERE status = 'draft'"));
    // Segments are sized by the rows the filter keeps (30,000 rows, 20,000 kept, segments of 5,000).
    assertEquals(4, LedgerChecks.assertAllVerified(pg, tgt, "items", 20_000));
  }

  @Test
  void columnsMapExpressionsAndRenames() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, total numeric(12, 2), first text, last text, created_at timestamptz, secret text)",
        "INSERT INTO items SELECT g, g / 100.0 + 0.005, 'F' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'L' || g END, "
            + "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 s', 'hide me' FROM generate_series(1, 20000) g");
    String tgt = migrate(src, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items_v2", "create": true},
         "columns": {"id": "id", "total_cents": "round(total * 100)::bigint", "full_name": "first || ' ' || coalesce(last, '?')",
                     "created_day": "created_at::date"},
         "segment": {"rows": 4000}}""");
    long n = Tables.assertSameRows(pg,
        src, "SELECT row(id, round(total * 100)::bigint, first || ' ' || coalesce(last, '?'), (created_at AT TIME ZONE 'UTC')::date)::text "
            + "FROM items ORDER BY id",
        tgt, "SELECT row(id, total_cents, full_name, created_day)::text FROM items_v2 ORDER BY id");
    assertEquals(20_000, n);
    LedgerChecks.assertAllVerified(pg, tgt, "items", 20_000);
    assertEquals(List.of("id bigint", "total_cents bigint", "full_name text", "created_day date"),
        pg.strings(tgt, "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute "
            + "WHERE attrelid = 'items_v2'::regclass AND attnum > 0 ORDER BY attnum"), "only the mapped columns, typed by their expressions");
  }

  @Test
  void emptyTableCompletesWithOneVerifiedSegment() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    String tgt = migrate(src, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items", "create": true}}""");
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items"));
    assertEquals(1, LedgerChecks.assertAllVerified(pg, tgt, "items", 0));
  }
}
