package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.testing.Async;
import dev.sluice.testing.Shapes;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Trigger capture on a partitioned source table. A statement-level trigger on the partitioned table
 * fires only for statements that name it: the application's writes made straight into a partition
 * (common with partitioned tables: loaders, retention jobs, archiving) fired none, and the job
 * completed without them. Capture on a partitioned table is row-level, which PostgreSQL clones to
 * every partition, those attached later included; a job that installed the statement-level triggers
 * before has them replaced.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class PartitionedCaptureTest {
  private final TestPg pg = TestPg.get();

  @Test
  void writesStraightIntoPartitionsAreCaptured(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("pcsrc");
    String tgt = pg.createDatabase("pctgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, v int) PARTITION BY RANGE (id)",
        "CREATE TABLE items_1 PARTITION OF items FOR VALUES FROM (1) TO (10000)",
        "CREATE TABLE items_2 PARTITION OF items FOR VALUES FROM (10000) TO (100000) PARTITION BY RANGE (id)",
        "CREATE TABLE items_2a PARTITION OF items_2 FOR VALUES FROM (10000) TO (100000)",
        "INSERT INTO items VALUES (3, 0), (4, 0), (30000, 0)",
        // What an earlier version installed: a statement-level trigger on the partitioned table.
        "CREATE SCHEMA sluice", "CREATE FUNCTION sluice.capture_items() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
        "CREATE TRIGGER sluice_capture_items_ins AFTER INSERT ON items REFERENCING NEW TABLE AS sluice_new "
            + "FOR EACH STATEMENT EXECUTE FUNCTION sluice.capture_items()");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, v int)");
    SluiceConfig config = ConfigLoader.parse(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}"""));
    Pool source = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
    Pool target = Databases.pool(vertx, config.target(), "sluice-test-target", 2);
    Async.blocking(vertx, () -> {
          JobShape shape = Shapes.first(config, source, target);
          return shape;
        })
        .compose(shape -> ChangeCapture.install(source, shape))
        .compose(v -> Async.blocking(vertx, () -> pg.exec(src,
            // As a subscription's apply worker writes (ReplicaRoleCaptureTest): the triggers are ENABLE ALWAYS, on every partition too.
            "SET session_replication_role = replica",
            "INSERT INTO items VALUES (1, 0)", // through the partitioned table
            "INSERT INTO items_1 VALUES (2, 0)", // straight into a partition
            "UPDATE items_2a SET v = 1 WHERE id = 30000", // into a partition's partition
            "DELETE FROM items_1 WHERE id = 3",
            "UPDATE items SET id = 40000 WHERE id = 4", // a key change that moves the row to another partition
            "CREATE TABLE items_3 PARTITION OF items FOR VALUES FROM (100000) TO (200000)", // after the install
            "INSERT INTO items_3 VALUES (100001, 0)")))
        .compose(v -> Async.text(source, "SELECT string_agg(k, ',' ORDER BY k::bigint) FROM "
            + "(SELECT DISTINCT key[1] AS k FROM sluice.changes_items) x"))
        .onComplete(ctx.succeeding(keys -> ctx.verify(() -> {
          assertEquals("1,2,3,4,30000,40000,100001", keys, "every changed key, whichever table the statement named");
          ctx.completeNow();
        })))
        .eventually(() -> source.close().eventually(target::close));
  }
}
