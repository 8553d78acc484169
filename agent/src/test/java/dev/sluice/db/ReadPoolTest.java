package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The read API's pools keep each statement prepared on their connection (a read is then a Bind and an
 * Execute, not a Parse and a plan each time), and still answer right after the table is replaced;
 * the other pools leave nothing prepared behind.
 */
class ReadPoolTest {
  private static final TestPg pg = TestPg.get();
  private static final String LOOKUP = "SELECT v FROM t WHERE id = $1::text::bigint";
  private static final String PREPARED = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1";
  private static Vertx vertx;
  private static DatabaseConfig db;

  @BeforeAll
  static void setUp() {
    String name = pg.createDatabase("readpool");
    pg.exec(name, "CREATE TABLE t (id bigint PRIMARY KEY, v text)", "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g");
    db = pg.database(name);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void tearDown() {
    Await.result(vertx.close());
  }

  private static String lookup(Pool p, long id) {
    var rows = Await.result(p.preparedQuery(LOOKUP).execute(Tuple.of(Long.toString(id))));
    return rows.size() == 0 ? null : rows.iterator().next().getString(0);
  }

  private static long prepared(Pool p) {
    return Await.result(p.preparedQuery(PREPARED).execute(Tuple.of(LOOKUP))).iterator().next().getLong(0);
  }

  @Test
  void readPoolsKeepStatementsPreparedAndFollowTheTable() {
    // One connection each, so that pg_prepared_statements is read on the connection that ran the lookups.
    Pool reads = Databases.readPool(vertx, db, "sluice-reads", 1);
    Pool plain = Databases.pool(vertx, db, "sluice-target", 1);
    try {
      for (long id = 1; id <= 7; id++) {
        assertEquals("v" + id, lookup(reads, id));
        assertEquals("v" + id, lookup(plain, id));
      }
      assertEquals(1, prepared(reads));
      assertEquals(0, prepared(plain));
      // A statement prepared (and planned generically) before the table was replaced reads the new one.
      pg.exec(db.database(), "DROP TABLE t", "CREATE TABLE t (id bigint PRIMARY KEY, v text)", "INSERT INTO t VALUES (3, 'new')");
      assertEquals("new", lookup(reads, 3));
      assertEquals(null, lookup(reads, 4));
    } finally {
      Await.result(reads.close());
      Await.result(plain.close());
    }
  }
}
