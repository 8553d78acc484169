package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Validation;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.JobConfig;
import dev.sluice.db.Await;
import dev.sluice.inspect.JobShape;
import dev.sluice.inspect.RowHash;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The typed row hash ({@link RowHash}, PostgreSQL 14+) on types it must not hash by value: no hash
 * function (json, point, xml), enums (hashed by OID, which differs between databases), equal values
 * that print differently. Each segment's proof compares the source's hash with the target's, so a
 * migration that ends with every segment verified shows the two sides agree.
 */
class RowHashMigrationTest {
  private final TestPg pg = TestPg.get();

  private static final String COLUMNS = "id bigint PRIMARY KEY, c_json json, c_point point, c_xml xml, c_mood mood, c_real real, "
      + "c_float float8, c_interval interval, c_arr int[], c_free numeric, c_timetz timetz, c_char char(3), c_num numeric(9, 3), "
      + "c_ts timestamptz, c_bool boolean";
  private static final String ROWS = "SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE json_build_object('g', g, 's', 'x y') END, "
      + "point(g, g / 3.0), xmlelement(name v, g), (ARRAY['sad', 'ok', 'happy']::mood[])[1 + g % 3], "
      + "CASE WHEN g % 11 = 0 THEN '-0'::real ELSE g / 7.0 END, g / 3.0, g * interval '1 min 0.5 s', ARRAY[g, NULL, -g], "
      + "CASE WHEN g % 2 = 0 THEN 1.0 ELSE 1.00 END * g, '12:00:00+02'::timetz + g * interval '1 s', "
      + "CASE WHEN g % 5 = 0 THEN NULL ELSE 'ab' END, g / 8.0, timestamptz '2024-01-01Z' + g * interval '1 s', g % 2 = 0 "
      + "FROM generate_series(1, 12000) g";
  private static final String ALL = "id, c_json::text, c_point::text, c_xml::text, c_mood, c_real, c_float, c_interval, c_arr, "
      + "c_free, c_timetz, c_char, c_num, c_ts, c_bool";

  private static String job(String target) {
    return """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.%s", "create": false},
         "segment": {"rows": 4000}, "concurrency": {"max": 2}}""".formatted(target);
  }

  @Test
  void typesWithNoHashOrAnOidHashVerifyAcrossDatabases() {
    String src = pg.createDatabase("src");
    pg.exec(src, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", "CREATE TABLE items (" + COLUMNS + ")", "INSERT INTO items " + ROWS);
    String tgt = pg.createDatabase("tgt");
    // Another enum first: the target's labels get other OIDs than the source's.
    pg.exec(tgt, "CREATE TYPE other AS ENUM ('x', 'y', 'z')", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE items (" + COLUMNS + ")");
    String config = LedgerChecks.config(pg, src, tgt, job("items"));
    // hash_record_extended exists from PostgreSQL 14 on; below, the row's text is hashed (and verified just as well).
    assertEquals(pg.serverMajor() >= 14, recordHash(config), "the typed row hash where both sides are 14+");
    Map<String, JobState> states = Agents.runUntilDone(config);
    assertEquals(JobState.COMPLETED, states.get("items"));
    String q = "SELECT row(" + ALL + ")::text FROM items ORDER BY id";
    assertEquals(12_000, Tables.assertSameRows(pg, src, q, tgt, q));
    LedgerChecks.assertAllVerified(pg, tgt, "items", 12_000);
  }

  @Test
  void typesWithNoHashVerifyServerSide() {
    String db = pg.createDatabase("same");
    pg.exec(db, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", "CREATE TABLE items (" + COLUMNS + ")", "INSERT INTO items " + ROWS,
        "CREATE TABLE items_copy (" + COLUMNS + ")");
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, db, db, job("items_copy")));
    assertEquals(JobState.COMPLETED, states.get("items"));
    assertEquals(12_000, Tables.assertSameRows(pg, db, "SELECT row(" + ALL + ")::text FROM items ORDER BY id",
        db, "SELECT row(" + ALL + ")::text FROM items_copy ORDER BY id"));
    LedgerChecks.assertAllVerified(pg, db, "items", 12_000);
  }

  /** A row filter or a column expression may be volatile: the server-side copy materialises the rows its insert and hash share. */
  @Test
  void serverSideWithAFilterAndAnExpression() {
    String db = pg.createDatabase("same");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'n' || g, g % 10 FROM generate_series(1, 9000) g",
        "CREATE TABLE items_copy (id bigint PRIMARY KEY, name text, qty int)");
    String job = """
        {"name": "items", "source": {"table": "public.items", "key": ["id"], "where": "qty <> 3"},
         "target": {"table": "public.items_copy", "create": false},
         "columns": {"id": "id", "name": "upper(name)", "qty": "qty"},
         "segment": {"rows": 3000}}""";
    Map<String, JobState> states = Agents.runUntilDone(LedgerChecks.config(pg, db, db, job));
    assertEquals(JobState.COMPLETED, states.get("items"));
    assertEquals(8100, Tables.assertSameRows(pg, db, "SELECT row(id, upper(name), qty)::text FROM items WHERE qty <> 3 ORDER BY id",
        db, "SELECT row(id, name, qty)::text FROM items_copy ORDER BY id"));
    LedgerChecks.assertAllVerified(pg, db, "items", 8100);
  }

  /** Values equal by their type's equality but printed differently still make the hash differ (the proof is on the text). */
  @Test
  void equalButDifferentlyPrintedValuesHashApart() {
    String db = pg.createDatabase("hash");
    pg.exec(db, "CREATE TABLE a (id bigint, f numeric, r real, i interval, j json, n numeric(5, 2), t timestamptz)");
    JobShape shape = shape(pg.serverMajor() >= 14, "id", "bigint", "f", "numeric", "r", "real", "i", "interval", "j", "json", "n", "numeric(5,2)",
        "t", "timestamp with time zone");
    String sum = "SELECT " + shape.rowHash().sum("a") + "::text FROM (SELECT id, f, r, i, j, n, t FROM a) a";
    String base = "1, 1.0, 0, '1 day', '{\"a\":1}', 1.5, '2024-01-01 00:00:00+00'";
    pg.exec(db, "INSERT INTO a VALUES (" + base + ")");
    String h0 = pg.string(db, sum);
    assertEquals(h0, pg.string(db, sum), "deterministic");
    List<String> variants = List.of("1, 1.00, 0, '1 day', '{\"a\":1}', 1.5, '2024-01-01 00:00:00+00'",
        "1, 1.0, '-0', '1 day', '{\"a\":1}', 1.5, '2024-01-01 00:00:00+00'",
        "1, 1.0, 0, '24 hours', '{\"a\":1}', 1.5, '2024-01-01 00:00:00+00'",
        "1, 1.0, 0, '1 day', '{\"a\": 1}', 1.5, '2024-01-01 00:00:00+00'",
        "1, 1.0, 0, '1 day', '{\"a\":1}', 1.51, '2024-01-01 00:00:00+00'",
        "1, 1.0, 0, '1 day', '{\"a\":1}', 1.5, '2024-01-01 00:00:00.000001+00'",
        "1, 1.0, 0, '1 day', NULL, 1.5, '2024-01-01 00:00:00+00'");
    for (String v : variants) {
      pg.exec(db, "TRUNCATE a", "INSERT INTO a VALUES (" + v + ")");
      assertNotEquals(h0, pg.string(db, sum), v);
    }
    // The same instant written in another zone is the same value: typed, it hashes alike whatever the session's TimeZone
    // (as text, alike in one session's TimeZone, which Sluice fixes to UTC on both sides).
    pg.exec(db, "TRUNCATE a", "INSERT INTO a VALUES (" + base.replace("'2024-01-01 00:00:00+00'", "'2024-01-01 02:00:00+02'") + ")");
    assertEquals(h0, pg.string(db, sum));
  }

  /** The row hash kind the agent's start-up inspection picks for the config's first job. */
  private static boolean recordHash(String config) {
    Vertx vertx = Vertx.vertx();
    try {
      return Validation.check(vertx, ConfigLoader.parse(config)).get(0).recordHash();
    } finally {
      Await.result(vertx.close());
    }
  }

  /** A shape with the typed row hash ({@code hash_record_extended}, PostgreSQL 14+) or the row's text hashed. */
  private static JobShape shape(boolean typed, String... nameTypes) {
    List<JobShape.Column> cols = new ArrayList<>();
    for (int i = 0; i < nameTypes.length; i += 2) cols.add(new JobShape.Column(nameTypes[i], nameTypes[i], nameTypes[i + 1], i == 0));
    return new JobShape((JobConfig) null, cols, List.of("id"), List.of("id"), List.of("bigint"), true, 0, typed);
  }
}
