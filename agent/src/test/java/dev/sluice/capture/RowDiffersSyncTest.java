package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A key sync rewrites a target row exactly when one of its values prints differently from the
 * source's ({@link dev.sluice.copy.RowDiffers}), with MERGE and with the upsert: values a type calls
 * equal but that print differently (numeric scale, float zero's sign, json spacing, a trailing space)
 * are rewritten, as are NULL against an empty text and a point (a type with no equality); a row equal
 * in every column is left alone (same xmin). The keys also go through the one-column-key read: a key
 * given twice, a key gone from the source, a key never there.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RowDiffersSyncTest {
  private static final String COLUMNS = "id int PRIMARY KEY, n numeric, f float8, j json, jb jsonb, p point, s text, v varchar(8), "
      + "ts timestamptz, b bytea, u uuid";
  private static final String SAME = "1.5, 2.5, '{\"a\": 1}', '{\"b\": 2}', '(1,2)', 'same', 'v', '2024-01-01 00:00:00+00', "
      + "'\\x0102', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'";
  /** The target's rows: 1 equal, 2-9 each differing from the source in one column's text only. */
  private static final String[][] DIFFERENT = {
      {"2", "n", "1.50"}, {"3", "f", "'-0'"}, {"4", "j", "'{\"a\":1}'"}, {"5", "s", "'same '"}, {"6", "p", "'(1,3)'"},
      {"7", "s", "''"}, {"8", "ts", "'2024-01-01 00:00:00.000001+00'"}, {"9", "v", "'V'"}};
  private static final String ROWS = "SELECT t::text FROM t ORDER BY id";
  private final TestPg pg = TestPg.get();
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private SyncSetup setup(String name) throws Exception {
    String src = pg.createDatabase(name + "_src");
    String tgt = pg.createDatabase(name + "_tgt");
    pg.exec(src, "CREATE TABLE t (" + COLUMNS + ")");
    pg.exec(tgt, "CREATE TABLE t (" + COLUMNS + ")");
    // Source: rows 1-9 and 11, with row 7's s NULL; target: rows 1-10 (10 is gone from the source).
    for (int id = 1; id <= 11; id++) {
      if (id != 10) pg.exec(src, "INSERT INTO t VALUES (" + id + ", " + SAME + ")");
      if (id != 11) pg.exec(tgt, "INSERT INTO t VALUES (" + id + ", " + SAME + ")");
    }
    pg.exec(src, "UPDATE t SET s = NULL WHERE id = 7", "UPDATE t SET f = 0 WHERE id = 3");
    for (String[] d : DIFFERENT) {
      if (!d[0].equals("7")) pg.exec(tgt, "UPDATE t SET " + d[1] + " = " + d[2] + " WHERE id = " + d[0]);
    }
    pg.exec(tgt, "UPDATE t SET s = '' WHERE id = 7");
    return SyncSetup.open(vertx, pg, src, tgt, "rd");
  }

  private static List<List<String>> keys() {
    List<List<String>> keys = new ArrayList<>();
    for (int id = 1; id <= 12; id++) keys.add(List.of(String.valueOf(id)));
    keys.add(List.of("04")); // key 4 spelled another way: one key
    return keys;
  }

  @Test
  void mergeRewritesExactlyTheRowsThatPrintDifferently() throws Exception {
    assumeTrue(pg.serverMajor() >= 15, "MERGE needs PostgreSQL 15 (this server: " + pg.serverMajor() + ")");
    check(setup("rd_merge"), true);
  }

  @Test
  void theUpsertRewritesExactlyTheRowsThatPrintDifferently() throws Exception {
    check(setup("rd_upsert"), false);
  }

  private void check(SyncSetup s, boolean merge) throws Exception {
    long xmin1 = pg.scalar(s.tgt(), "SELECT xmin::text::bigint FROM t WHERE id = 1");
    KeySync sync = new KeySync(s.shape(), s.source(), s.target(), merge);
    KeySync.Result first = SyncSetup.await(sync.sync(keys()));
    assertEquals(pg.strings(s.src(), ROWS), pg.strings(s.tgt(), ROWS), "the target's rows print as the source's");
    assertEquals(new KeySync.Result(9, 1), first,
        (merge ? "MERGE" : "upsert") + ": rows 2-9 rewritten and 11 inserted, 10 deleted; 1 equal and 12 never there");
    assertEquals(xmin1, pg.scalar(s.tgt(), "SELECT xmin::text::bigint FROM t WHERE id = 1"), "row 1, equal in every column, not rewritten");
    assertEquals(new KeySync.Result(0, 0), SyncSetup.await(sync.sync(keys())), "the same keys again: nothing differs any more");
    s.close();
  }
}
