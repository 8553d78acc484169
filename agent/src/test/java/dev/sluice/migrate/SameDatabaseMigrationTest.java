package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Source and target in one database: segments are copied server-side in one {@code INSERT .. SELECT}
 * each. A statement trigger on the target records the text of every statement that inserts into it,
 * which shows how the rows arrived.
 */
class SameDatabaseMigrationTest {
  private final TestPg pg = TestPg.get();

  private String seed(int rows) {
    String db = pg.createDatabase("same");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, name text, amount numeric(10, 2), at timestamptz)",
        "INSERT INTO items SELECT g, CASE WHEN g % 9 = 0 THEN NULL ELSE 'n' || g END, g / 10.0, "
            + "timestamptz '2024-01-01Z' + g * interval '1 min' FROM generate_series(1, " + rows + ") g",
        "CREATE TABLE items_copy (id bigint PRIMARY KEY, name text, amount numeric(10, 2), at timestamptz)",
        "CREATE TABLE copy_log (q text NOT NULL)",
        "CREATE FUNCTION log_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            + "INSERT INTO copy_log VALUES (current_query()); RETURN NULL; END $$",
        "CREATE TRIGGER log_copy AFTER INSERT ON items_copy FOR EACH STATEMENT EXECUTE FUNCTION log_copy()");
    return db;
  }

  private void migrate(String db, String mode) {
    var states = Agents.runUntilDone(LedgerChecks.config(pg, db, db, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items_copy"}, "mode": "%s",
         "segment": {"rows": 20000}, "concurrency": {"max": 3}}""".formatted(mode)));
    assertEquals(JobState.COMPLETED, states.get("items"));
  }

  @Test
  void copiesServerSideInOneStatementPerSegment() {
    String db = seed(100_000);
    migrate(db, "auto");
    long n = Tables.assertSameRows(pg, db, "SELECT row(id, name, amount, at)::text FROM items ORDER BY id",
        db, "SELECT row(id, name, amount, at)::text FROM items_copy ORDER BY id");
    assertEquals(100_000, n);
    assertEquals(5, LedgerChecks.assertAllVerified(pg, db, "items", 100_000));
    List<String> statements = pg.strings(db, "SELECT q FROM copy_log");
    assertEquals(5, statements.size(), "one INSERT .. SELECT per segment");
    for (String q : statements) {
      assertTrue(q.contains("INSERT INTO \"public\".\"items_copy\"") && q.contains("FROM \"public\".\"items\""), q);
      assertTrue(!q.contains("unnest("), "no rows travelled through the agent: " + q);
    }
  }

  /**
   * A server-side segment copy is one statement: when it outruns {@code statement_timeout}, the
   * segment is split in half until each part fits, and the job still completes equal.
   */
  @Test
  void aServerSideCopyOverTheStatementCapIsSplit() {
    String db = seed(1_400);
    // pg_sleep sleeps whole milliseconds, at least: a 700-row segment takes over 1.4 s, over the 1 s cap; its
    // halves (0.7 s of sleep) fit, or on a slow machine are split again (a part under 200 rows is not split,
    // and fits while a row takes under 5 ms). Every failed attempt costs the cap: fewer rows, fewer seconds.
    var states = Agents.runUntilDone(LedgerChecks.config(pg, db, db, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]},
         "target": {"table": "public.items_copy"}, "mode": "server",
         "columns": {"id": "id", "name": "name || (SELECT '' FROM pg_sleep(0.002 + id * 0))", "amount": "amount", "at": "at"},
         "capture": {"enabled": false}, "verify": {"finalPass": false},
         "segment": {"rows": 700}, "concurrency": {"max": 2}}""").replaceFirst("\"jobs\"",
        "\"sessions\": {\"statementTimeoutMs\": 1000}, \"jobs\""));
    assertEquals(JobState.COMPLETED, states.get("items"));
    assertEquals(1_400, Tables.assertSameRows(pg, db, "SELECT row(id, name, amount, at)::text FROM items ORDER BY id",
        db, "SELECT row(id, name, amount, at)::text FROM items_copy ORDER BY id"));
    assertTrue(pg.scalar(db, "SELECT count(*) FROM sluice.events WHERE kind = 'segment.split' AND message LIKE '%statement cap%'") >= 2,
        "both planned segments were split");
    assertTrue(LedgerChecks.assertAllVerified(pg, db, "items", 1_400) >= 4, "more segments than the 2 planned");
  }

  /** The contrast that shows the check above can fail: forced client mode streams each segment through the agent with COPY. */
  @Test
  void clientModeInTheSameDatabaseCopiesWithCopy() {
    String db = seed(20_000);
    migrate(db, "client");
    assertEquals(20_000, Tables.assertSameRows(pg, db, "SELECT row(id, name, amount, at)::text FROM items ORDER BY id",
        db, "SELECT row(id, name, amount, at)::text FROM items_copy ORDER BY id"));
    LedgerChecks.assertAllVerified(pg, db, "items", 20_000);
    List<String> statements = pg.strings(db, "SELECT q FROM copy_log");
    assertEquals(1, statements.size(), "one COPY for the one segment: " + statements);
    assertTrue(statements.get(0).startsWith("COPY \"public\".\"items_copy\"") && statements.get(0).contains("FROM STDIN"), statements.get(0));
  }

  /** Mode rows streams batches of rows through the agent (unnest inserts), never COPY. */
  @Test
  void rowsModeInTheSameDatabaseStreamsBatches() {
    String db = seed(20_000);
    migrate(db, "rows");
    assertEquals(20_000, Tables.assertSameRows(pg, db, "SELECT row(id, name, amount, at)::text FROM items ORDER BY id",
        db, "SELECT row(id, name, amount, at)::text FROM items_copy ORDER BY id"));
    LedgerChecks.assertAllVerified(pg, db, "items", 20_000);
    List<String> statements = pg.strings(db, "SELECT q FROM copy_log");
    assertEquals(4, statements.size(), "one upsert per batch of 5,000");
    assertTrue(statements.stream().allMatch(q -> q.contains("unnest(")), statements.toString());
  }
}
