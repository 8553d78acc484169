package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.db.Databases;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What stands in the way of logical capture, each with its fix: from settings, and from a real server's catalogs. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LogicalCapabilityTest {
  private final TestPg pg = TestPg.get();

  private static LogicalCapability.Facts ok() {
    return new LogicalCapability.Facts(150004, "logical", 10, 2, false, 10, 1, true, false, false, true, true, "d", List.of("id"),
        "app", "app");
  }

  private static String verdict(LogicalCapability.Facts f) {
    return LogicalCapability.verdict(f, "orders", "public.orders", List.of("id")).explain();
  }

  @Test
  void settingsThatRuleItOut() {
    assertEquals("logical decoding is available", verdict(ok()));
    var f = ok();
    assertEquals("the source runs PostgreSQL 13: logical capture needs PostgreSQL 14 or later; wal_level is replica: set wal_level = "
        + "logical on the source and restart it", verdict(new LogicalCapability.Facts(130010, "replica", f.maxSlots(), f.slotsUsed(),
        false, f.maxSenders(), f.sendersUsed(), true, false, false, true, true, "d", List.of("id"), "app", "app")));
    String full = verdict(new LogicalCapability.Facts(150004, "logical", 4, 4, false, 4, 4, false, false, false, true, true, "d",
        List.of("id"), "app", "app"));
    assertTrue(full.contains("role app may not replicate: ALTER ROLE app REPLICATION"), full);
    assertTrue(full.contains("all 4 replication slots are in use: raise max_replication_slots"), full);
    assertTrue(full.contains("all 4 WAL senders are in use: raise max_wal_senders"), full);
    // Its own slot already there: no free slot is needed.
    assertFalse(verdict(new LogicalCapability.Facts(150004, "logical", 4, 4, true, 10, 1, true, false, false, true, true, "d",
        List.of("id"), "app", "app")).contains("slots"));
  }

  @Test
  void theRealServersCatalogs(Vertx vertx, VertxTestContext ctx) {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("cap");
    String role = "capper_" + db;
    pg.exec(db, "CREATE TABLE byid (id bigint PRIMARY KEY, code text UNIQUE NOT NULL)",
        "CREATE TABLE nopk (code text NOT NULL, v int)", "CREATE UNIQUE INDEX nopk_code ON nopk (code)",
        "CREATE TABLE full_t (code text NOT NULL)", "ALTER TABLE full_t REPLICA IDENTITY FULL",
        "CREATE TABLE by_index (code text NOT NULL, v int)", "CREATE UNIQUE INDEX by_index_code ON by_index (code)",
        "ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_code",
        "CREATE ROLE " + role + " LOGIN", "GRANT SELECT ON byid TO " + role);
    Pool su = pool(vertx, pg.url(db));
    Pool plain = pool(vertx, pg.url(db).replace("postgres@", role + "@"));
    Future.all(check(su, "byid", List.of("id")), check(su, "full_t", List.of("code")), check(su, "by_index", List.of("code")),
            check(su, "byid", List.of("code")), check(su, "nopk", List.of("code")), check(plain, "byid", List.of("id")))
        .compose(all -> {
          ctx.verify(() -> {
            LogicalCapability.Verdict byId = all.resultAt(0);
            assertTrue(byId.possible(), byId.explain());
            assertTrue(all.<LogicalCapability.Verdict>resultAt(1).possible());
            assertTrue(all.<LogicalCapability.Verdict>resultAt(2).possible());
            String byCode = all.<LogicalCapability.Verdict>resultAt(3).explain();
            assertTrue(byCode.contains("the replica identity of public.byid (primary key [id]) does not cover the key [code]"), byCode);
            String nopk = all.<LogicalCapability.Verdict>resultAt(4).explain();
            assertTrue(nopk.contains("no primary key (REPLICA IDENTITY DEFAULT)"), nopk);
            assertTrue(nopk.contains("ALTER TABLE public.nopk REPLICA IDENTITY USING INDEX"), nopk);
            String denied = all.<LogicalCapability.Verdict>resultAt(5).explain();
            assertTrue(denied.contains("role " + role + " may not replicate: ALTER ROLE " + role + " REPLICATION"), denied);
            assertTrue(denied.contains("cannot create publication sluice_byid (it lacks CREATE on the database and ownership of "
                + "public.byid)"), denied);
          });
          // A DBA creates the publication: the role no longer needs to own the table.
          return Async.blocking(vertx, () -> pg.exec(db, "CREATE PUBLICATION sluice_byid FOR TABLE byid", "ALTER ROLE " + role + " REPLICATION"));
        })
        .compose(v -> check(plain, "byid", List.of("id")))
        .compose(granted -> {
          ctx.verify(() -> assertTrue(granted.possible(), granted.explain()));
          return Async.blocking(vertx, () -> pg.exec(db, "CREATE PUBLICATION sluice_nopk FOR TABLE full_t"));
        })
        .compose(v -> check(su, "nopk", List.of("code")))
        .compose(nopk -> {
          ctx.verify(() -> assertTrue(nopk.explain().contains("publication sluice_nopk exists but does not publish public.nopk")));
          // A replication connection, opened with pgjdbc: on a worker.
          return Async.blocking(vertx, () -> LogicalCapability.replicationRefusal(dev.sluice.db.Databases.settings(pg.database(db), "sluice-validate")));
        })
        .eventually(() -> Future.join(su.close(), plain.close()))
        .onComplete(ctx.succeeding(refusal -> ctx.verify(() -> {
          assertNull(refusal);
          ctx.completeNow();
        })));
  }

  private static Future<LogicalCapability.Verdict> check(Pool p, String table, List<String> key) {
    return LogicalCapability.check(p, table, "public." + table, key);
  }

  private static Pool pool(Vertx vertx, String url) {
    PgConnectOptions o = PgConnectOptions.fromUri(url);
    return Databases.pool(vertx, TestPg.config(o, 1), "sluice-test", 1);
  }
}
