package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.RestartablePg;
import dev.sluice.testing.Shapes;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An autovacuum of the source table is the most common holder of a lock in the way of capture's DDL
 * on a big, busy table. PostgreSQL cancels it for a waiter (unless it prevents wraparound) once the
 * waiter has waited {@code deadlock_timeout}. Capture's DDL gave up its place in the queue after
 * exactly that long (a 1 s lock timeout against the default 1 s deadlock timeout), so the autovacuum
 * was never cancelled: the install retried until the vacuum ended, minutes on a large table, or failed
 * after ten. Its lock timeout is now {@code deadlock_timeout} + 1 s.
 */
class AutovacuumGivesWayTest {
  @Test
  void theTriggersGoInPastARunningAutovacuum() throws Exception {
    // A server of the test's own, its autovacuum launcher waking every second (the shared one's wakes every minute).
    try (RestartablePg server = RestartablePg.start()) {
      server.exec("postgres", "ALTER SYSTEM SET autovacuum_naptime = '1s'", "SELECT pg_reload_conf()", "CREATE DATABASE av_src");
      // A vacuum that crawls (its cost limit 1 with 100 ms naps): it would hold its lock for minutes.
      server.exec("av_src", "CREATE TABLE items (id bigint PRIMARY KEY, v int) WITH (autovacuum_vacuum_threshold = 0, "
              + "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)",
          "INSERT INTO items SELECT g, 0 FROM generate_series(1, 100000) g", "DELETE FROM items WHERE id % 2 = 0");
      Eventually.until(Duration.ofSeconds(60), "an autovacuum of items running", () -> server.scalar("av_src",
          "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND query LIKE '%items%'") == 1);
      TestPg pg = TestPg.get();
      String tgt = pg.createDatabase("av_tgt");
      SluiceConfig config = ConfigLoader.parse(LedgerChecks.config(pg, "av_src", tgt, """
          {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
           "capture": {"mode": "trigger"}}""").replace(pg.url("av_src"), server.url("av_src")));
      Vertx vertx = Vertx.vertx();
      Pool source = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
      Pool target = Databases.pool(vertx, config.target(), "sluice-test-target", 1);
      try {
        JobShape shape = Shapes.first(config, source, target);
        long t0 = System.nanoTime();
        Await.result(ChangeCapture.install(vertx, source, shape, true), 60, TimeUnit.SECONDS);
        double took = (System.nanoTime() - t0) / 1e9;
        assertTrue(took < 10, "installed " + took + " s after it asked, past the autovacuum");
        assertEquals(3, server.scalar("av_src", "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'items'::regclass AND tgname LIKE 'sluice%'"));
      } finally {
        Await.result(source.close());
        Await.result(target.close());
        Await.result(vertx.close());
      }
    }
  }
}
