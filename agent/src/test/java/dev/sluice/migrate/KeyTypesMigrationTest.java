package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Whole migrations of 20k-row tables, one per key shape, each ending in a row-by-row comparison. Each
 * job has five to seven segments of a few thousand rows and four batches a segment: what a key shape
 * changes (bounds, ordering, the planner's cuts) shows at this size as at any other.
 */
class KeyTypesMigrationTest {
  private final TestPg pg = TestPg.get();

  /** Migrates public.items of a fresh source into a fresh target; returns the target database. */
  private String migrate(String src, String job) {
    String tgt = pg.createDatabase("tgt");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, src, tgt, job));
    assertEquals(JobState.COMPLETED, states.get("items"));
    return tgt;
  }

  private static String job(String key, long segmentRows) {
    return """
        {"name": "items", "source": {"table": "public.items", "key": %s},
         "target": {"table": "public.items", "create": true},
         "segment": {"rows": %d}, "batch": {"rows": 1000}, "concurrency": {"max": 3}}""".formatted(key, segmentRows);
  }

  @Test
  void bigintKey() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g * 3, 'item ' || g, g % 100 FROM generate_series(1, 20000) g");
    String tgt = migrate(src, job("[\"id\"]", 4000));
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    assertEquals(20_000, n);
    assertEquals(5, LedgerChecks.assertAllVerified(pg, tgt, "items", 20_000));
  }

  @Test
  void textKeyWithUnusualStrings() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (code text PRIMARY KEY, n int)",
        "INSERT INTO items SELECT md5(g::text) || CASE WHEN g % 3 = 0 THEN ' Ä' WHEN g % 3 = 1 THEN 'z' ELSE '' END, g "
            + "FROM generate_series(1, 20000) g",
        // Empty string, spaces, case, quotes, backslashes, commas, braces, non-ASCII: all travel as text[] bounds.
        "INSERT INTO items VALUES (''), (' '), ('A'), ('a'), ('Zürich'), ('zebra'), ('日本'), ('🙂'), ('it''s'), "
            + "('back\\slash'), ('\"dq\"'), ('a,b'), ('{x}'), ('NULL'), ('line\nbreak')");
    String tgt = migrate(src, job("[\"code\"]", 3000));
    long n = Tables.assertSameRows(pg, src, "SELECT row(code, n)::text FROM items ORDER BY code",
        tgt, "SELECT row(code, n)::text FROM items ORDER BY code");
    assertEquals(20_015, n);
    assertEquals(7, LedgerChecks.assertAllVerified(pg, tgt, "items", 20_015));
  }

  @Test
  void uuidKey() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (id uuid PRIMARY KEY, payload text)",
        "INSERT INTO items SELECT gen_random_uuid(), repeat('x', g % 40) FROM generate_series(1, 20000) g",
        "INSERT INTO items VALUES ('00000000-0000-0000-0000-000000000000', 'min'), ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'max')");
    String tgt = migrate(src, job("[\"id\"]", 5000));
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, payload)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, payload)::text FROM items ORDER BY id");
    assertEquals(20_002, n);
    assertEquals(5, LedgerChecks.assertAllVerified(pg, tgt, "items", 20_002));
  }

  @Test
  void compositeKey() {
    String src = pg.createDatabase("src");
    // Key columns listed in an order other than the table's, with a negative part: row comparison must follow the key.
    pg.exec(src, "CREATE TABLE items (id int NOT NULL, tenant text NOT NULL, v numeric, PRIMARY KEY (tenant, id))",
        "INSERT INTO items SELECT g / 7 - 1000, 't' || (g % 7), g * 1.5 FROM generate_series(1, 20000) g");
    String tgt = migrate(src, job("[\"tenant\", \"id\"]", 4000));
    long n = Tables.assertSameRows(pg, src, "SELECT row(tenant, id, v)::text FROM items ORDER BY tenant, id",
        tgt, "SELECT row(tenant, id, v)::text FROM items ORDER BY tenant, id");
    assertEquals(20_000, n);
    assertEquals(5, LedgerChecks.assertAllVerified(pg, tgt, "items", 20_000));
    assertEquals(List.of("tenant", "id"), pg.strings(tgt, "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        + "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'items'::regclass AND i.indisprimary "
        + "ORDER BY array_position(i.indkey::int2[], a.attnum)"), "created target's primary key follows the configured key");
  }

  @Test
  void negativeZeroAndExtremeKeys() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'n' || g FROM generate_series(-12000, 7999) g",
        "INSERT INTO items VALUES (-9223372036854775808, 'min'), (9223372036854775807, 'max')");
    String tgt = migrate(src, job("[\"id\"]", 4000));
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name)::text FROM items ORDER BY id");
    assertEquals(20_002, n);
    assertEquals(6, LedgerChecks.assertAllVerified(pg, tgt, "items", 20_002));
    assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM items WHERE id = 0"));
  }

  @Test
  void sparseKeysAreSegmentedByRows() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'low' FROM generate_series(1, 100) g",
        "INSERT INTO items SELECT 1000000000000 + g, 'high' FROM generate_series(0, 19999) g");
    String tgt = migrate(src, job("[\"id\"]", 4000));
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name)::text FROM items ORDER BY id");
    assertEquals(20_100, n);
    // 20,100 rows in segments of 4,000 rows: five full ones and a tail of 100, whatever the key gap.
    assertEquals(6, LedgerChecks.assertAllVerified(pg, tgt, "items", 20_100));
    assertEquals(List.of("4000", "4000", "4000", "4000", "4000", "100"),
        pg.strings(tgt, "SELECT rows_copied FROM sluice.segments WHERE job = 'items' ORDER BY seq"));
    assertEquals(List.of("4000", "4000", "4000", "4000", "4000", "100"),
        pg.strings(tgt, "SELECT rows_planned FROM sluice.segments WHERE job = 'items' ORDER BY seq"));
  }
}
