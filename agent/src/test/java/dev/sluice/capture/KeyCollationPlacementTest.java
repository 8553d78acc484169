package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.plan.KeyRange;
import dev.sluice.testing.Shapes;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The changelog places a key in the segment whose range holds it in the source column's order. A
 * key column declared with a collation other than the database's default (here ICU's English order
 * on a database whose default is C) used to be compared by the default collation, which puts
 * 'b...' after 'C...': a change to a key of a segment already copied was taken for one of a pending
 * segment and dropped, and nothing but the final pass would have repaired the target.
 */
class KeyCollationPlacementTest {
  private final TestPg pg = TestPg.get();

  @Test
  void keysArePlacedAndFoundInRangesByTheKeyColumnsCollation() {
    String src = pg.createDatabase("kcsrc");
    String tgt = pg.createDatabase("kctgt");
    pg.exec(src, "CREATE TABLE items (code text COLLATE \"en-x-icu\" PRIMARY KEY, v int)",
        "INSERT INTO items SELECT CASE WHEN g % 2 = 0 THEN upper(md5(g::text)) ELSE md5(g::text) END || '-' || g, g "
            + "FROM generate_series(1, 3000) g");
    // The precondition: the two orders disagree on these keys (else the test proves nothing).
    assertTrue(pg.scalar(src, "SELECT count(*) FROM (SELECT code, row_number() OVER (ORDER BY code) a, "
        + "row_number() OVER (ORDER BY code COLLATE \"default\") b FROM items) x WHERE a <> b") > 1000);
    SluiceConfig config = ConfigLoader.parse(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["code"]}, "target": {"table": "public.items", "create": true}}"""));
    Vertx vertx = Vertx.vertx();
    Pool source = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
    Pool target = Databases.pool(vertx, config.target(), "sluice-test-target", 2);
    try {
      JobShape shape = Shapes.first(config, source, target);
      CaptureSql sql = new CaptureSql(shape);
      pg.exec(src, sql.installObjects().toArray(new String[0]));
      pg.exec(src, "INSERT INTO " + sql.changelog() + " (key) SELECT ARRAY[code::text] FROM items");
      // Lower bounds of segments 2..6, every 500th key in the column's order, as the planner cuts.
      List<String> bounds = pg.strings(src, "SELECT code FROM (SELECT code, row_number() OVER (ORDER BY code) - 1 AS n FROM items) x "
          + "WHERE n > 0 AND n % 500 = 0 ORDER BY code");
      assertEquals(5, bounds.size());
      String[] b = bounds.toArray(new String[0]);

      Map<String, Integer> placed = new HashMap<>();
      for (Row r : Await.result(source.preparedQuery(sql.readBatch()).execute(Tuple.of(0L, 10_000, b)))) {
        placed.put(r.getArrayOfStrings(1)[0], r.getInteger(2));
      }
      Map<String, Integer> expected = new HashMap<>();
      for (Row r : Await.result(source.preparedQuery("SELECT code, (SELECT count(*)::int FROM unnest($1::text[]) AS u(b) WHERE u.b <= items.code) "
          + "FROM items").execute(Tuple.of((Object) b)))) {
        expected.put(r.getString(0), r.getInteger(1));
      }
      assertEquals(3000, placed.size());
      int wrong = 0;
      for (var e : expected.entrySet()) if (!e.getValue().equals(placed.get(e.getKey()))) wrong++;
      assertEquals(0, wrong, "keys placed in another segment than the one whose range holds them");

      // The same keys through the WAL reader's placement.
      String[] lits = expected.keySet().stream().map(k -> ChangelogWriter.arrayLiteral(List.of(k))).toArray(String[]::new);
      int wrongHanded = 0;
      for (Row r : Await.result(source.preparedQuery(sql.placeKeys()).execute(Tuple.tuple().addValue(lits).addValue(b)))) {
        if (!expected.get(r.getArrayOfStrings(1)[0]).equals(r.getInteger(2))) wrongHanded++;
      }
      assertEquals(0, wrongHanded, "handed keys placed in another segment");

      // Entries pending in a segment's range are the keys the range holds on the table.
      KeyRange.Predicate p = sql.pendingInRange(new KeyRange(List.of(b[1]), List.of(b[2])));
      TreeSet<String> pending = new TreeSet<>();
      for (Row r : Await.result(source.preparedQuery(p.sql()).execute(Tuple.tuple(p.params())))) pending.add(r.getArrayOfStrings(0)[0]);
      TreeSet<String> inRange = new TreeSet<>();
      for (Row r : Await.result(source.preparedQuery("SELECT code FROM items WHERE code >= $1 AND code < $2").execute(Tuple.of(b[1], b[2])))) {
        inRange.add(r.getString(0));
      }
      assertEquals(500, inRange.size());
      assertEquals(inRange, pending, "entries pending in a range");
    } finally {
      Await.result(source.close());
      Await.result(target.close());
      Await.result(vertx.close());
    }
  }
}
