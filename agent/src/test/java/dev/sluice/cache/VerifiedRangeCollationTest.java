package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.testing.Shapes;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The read path serves a key from the target only when a verified segment's range holds it, in the
 * key column's order. Keys and bounds are cast from text there, so without the column's collation
 * named they compared by the database's default: on a key column sorted by ICU's English order
 * ('a' &lt; 'B' &lt; 'c') in a database whose default is C ('B' &lt; 'a' &lt; 'c'), a key of a segment
 * not copied yet was read from the target (where it is missing) and a verified one from the source.
 */
class VerifiedRangeCollationTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aKeyIsInAVerifiedSegmentByTheKeyColumnsOrder() {
    String src = pg.createDatabase("vrsrc");
    String tgt = pg.createDatabase("vrtgt");
    for (String db : List.of(src, tgt)) pg.exec(db, "CREATE TABLE items (code text COLLATE \"en-x-icu\" PRIMARY KEY, v int)");
    pg.exec(src, "INSERT INTO items VALUES ('a', 1), ('B', 2), ('c', 3), ('D', 4)");
    pg.exec(tgt, "INSERT INTO items VALUES ('a', 1), ('B', 2)");
    SluiceConfig config = ConfigLoader.parse(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["code"]}, "target": {"table": "public.items"}}"""));
    Vertx vertx = Vertx.vertx();
    Pool source = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
    Pool target = Databases.pool(vertx, config.target(), "sluice-test-target", 2);
    try {
      JobShape shape = Shapes.first(config, source, target);
      Await.result(LedgerSchema.ensure(target));
      // Two segments cut at 'bb': [-inf, 'bb') holds a and B (copied, verified); ['bb', +inf) holds c and D (not yet copied).
      pg.exec(tgt, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types, target_created, "
              + "segments_planned, rows_planned, started_at) VALUES ('items', 'copying', 'public.items', 'public.items', '{code}', '{text}', "
              + "false, 2, 4, now())",
          "INSERT INTO sluice.segments (job, seq, lower_bound, upper_bound, rows_planned, state) VALUES "
              + "('items', 0, NULL, '{bb}', 2, 'verified'), ('items', 1, '{bb}', NULL, 2, 'pending')");
      RowSql sql = new RowSql(shape, new KeyCodec(shape.keyTypes()).lookupTypes(), 2);
      List<String> keys = List.of("a", "B", "c", "D");
      List<String> verified = new ArrayList<>();
      for (Row r : Await.result(target.preparedQuery(sql.target()).execute(Tuple.of("items").addValue(keys.toArray(new String[0]))))) {
        verified.add(r.getBoolean(0) + ":" + r.getString(1));
      }
      assertEquals(List.of("true:{\"code\":\"a\",\"v\":1}", "true:{\"code\":\"B\",\"v\":2}", "false:null", "false:null"), verified);
    } finally {
      Await.result(source.close());
      Await.result(target.close());
      Await.result(vertx.close());
    }
  }
}
