package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The read API's pools keep each statement prepared on their connection (a read is then a Bind and an
 * Execute, not a Parse and a plan each time), and still answer right after the table is replaced;
 * the other pools leave nothing prepared behind.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ReadPoolTest {
  private static final String LOOKUP = "SELECT v FROM t WHERE id = $1::text::bigint";
  private static final String PREPARED = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1";
  private final TestPg pg = TestPg.get();

  private static Future<String> lookup(Pool p, long id) {
    return p.preparedQuery(LOOKUP).execute(Tuple.of(Long.toString(id)))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
  }

  private static Future<Long> prepared(Pool p) {
    return p.preparedQuery(PREPARED).execute(Tuple.of(LOOKUP)).map(rows -> rows.iterator().next().getLong(0));
  }

  /** Looks ids 1..7 up through both pools, checking each answer. */
  private static Future<Void> lookups(Pool reads, Pool plain, VertxTestContext ctx) {
    Future<Void> chain = Future.succeededFuture();
    for (long id = 1; id <= 7; id++) {
      long k = id;
      chain = chain.compose(v -> Future.all(lookup(reads, k), lookup(plain, k))).map(all -> {
        ctx.verify(() -> {
          assertEquals("v" + k, all.resultAt(0));
          assertEquals("v" + k, all.resultAt(1));
        });
        return null;
      });
    }
    return chain;
  }

  @Test
  void readPoolsKeepStatementsPreparedAndFollowTheTable(Vertx vertx, VertxTestContext ctx) {
    String name = pg.createDatabase("readpool");
    pg.exec(name, "CREATE TABLE t (id bigint PRIMARY KEY, v text)", "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g");
    DatabaseConfig db = pg.database(name);
    // One connection each, so that pg_prepared_statements is read on the connection that ran the lookups.
    Pool reads = Databases.readPool(vertx, db, "target", 1);
    Pool plain = Databases.pool(vertx, db, "sluice-target", 1);
    lookups(reads, plain, ctx)
        .compose(v -> Future.all(prepared(reads), prepared(plain)))
        .compose(all -> {
          ctx.verify(() -> {
            assertEquals(1L, (Long) all.resultAt(0));
            assertEquals(0L, (Long) all.resultAt(1));
          });
          // A statement prepared (and planned generically) before the table was replaced reads the new one.
          return vertx.executeBlocking(() -> {
            pg.exec(name, "DROP TABLE t", "CREATE TABLE t (id bigint PRIMARY KEY, v text)", "INSERT INTO t VALUES (3, 'new')");
            return null;
          });
        })
        .compose(v -> Future.all(lookup(reads, 3), lookup(reads, 4)))
        .eventually(() -> Future.join(reads.close(), plain.close()))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals("new", all.resultAt(0));
          assertNull(all.resultAt(1));
          ctx.completeNow();
        })));
  }
}
