package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.db.Databases;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Logical capture whose publication the table's owner (or a superuser) made, as {@code validate} tells a
 * role that cannot make it: removing the capture (at completion, {@code cleanup}, {@code rollback}) drops
 * the slot and the changelog and leaves the publication, saying whose it is. Before, the whole removal
 * failed on {@code 42501 must be owner of publication}, and cleanup left the changelog behind.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ForeignPublicationTest {
  private final TestPg pg = TestPg.get();

  @Test
  void removalLeavesOnlyThePublicationItsOwnerMade(Vertx vertx, VertxTestContext ctx) {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("foreignpub");
    String role = "capture_" + db;
    pg.exec("postgres", "CREATE ROLE " + role + " LOGIN REPLICATION");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "GRANT SELECT ON items TO " + role,
        "CREATE SCHEMA sluice AUTHORIZATION " + role,
        "CREATE TABLE sluice.changes_fp (id bigserial PRIMARY KEY, key text[] NOT NULL)",
        "ALTER TABLE sluice.changes_fp OWNER TO " + role,
        "CREATE PUBLICATION sluice_fp FOR TABLE items WITH (publish_via_partition_root = true)",
        "SELECT pg_create_logical_replication_slot('sluice_fp', 'pgoutput')");
    Pool pool = Databases.pool(vertx, TestPg.config(PgConnectOptions.fromUri(pg.url(db).replace("postgres@", role + "@")), 1),
        "sluice-test", 1);
    ChangeCapture.remove(pool, "fp")
        .compose(v -> LogicalSlot.foreignPublication(pool, "fp"))
        .eventually(pool::close)
        .onComplete(ctx.succeeding(left -> ctx.verify(() -> {
          assertEquals(0, pg.scalar(db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_fp'"), "the slot is dropped");
          assertEquals(0, pg.scalar(db, "SELECT count(*) FROM pg_class WHERE relname = 'changes_fp'"), "the changelog is dropped");
          assertEquals(1, pg.scalar(db, "SELECT count(*) FROM pg_publication WHERE pubname = 'sluice_fp'"), "the owner's publication stays");
          assertTrue(left != null && left.contains("publication sluice_fp belongs to role postgres")
              && left.contains("DROP PUBLICATION \"sluice_fp\""), String.valueOf(left));
          pg.exec(db, "DROP PUBLICATION sluice_fp");
          ctx.completeNow();
        })));
  }
}
