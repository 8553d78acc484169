package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.LogCapture;
import dev.sluice.testing.Shapes;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Installing capture triggers (and dropping them) needs a strong lock on the source table. Behind a
 * long transaction (here a session idle in transaction after an UPDATE, or after a SELECT for the
 * drop), the DDL used to wait in the lock queue, and every statement on the table after it queued
 * behind the DDL: the table's writers (the drop: its readers too) stopped for as long as that
 * transaction stayed open. Now each attempt waits a second at most, names the holder in the log and
 * tries again later; the users' statements keep running, and the DDL lands once the holder ends.
 */
class DdlLockQueueTest {
  private final TestPg pg = TestPg.get();
  private Vertx vertx;
  private Pool source;
  private JobShape shape;
  private String src;

  @BeforeEach
  void setUp() {
    src = pg.createDatabase("dq_src");
    String tgt = pg.createDatabase("dq_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 100) g");
    SluiceConfig config = ConfigLoader.parse(LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
         "capture": {"mode": "trigger"}}"""));
    vertx = Vertx.vertx();
    source = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
    Pool target = Databases.pool(vertx, config.target(), "sluice-test-target", 1);
    shape = Shapes.first(config, source, target);
    Await.result(target.close());
  }

  @AfterEach
  void tearDown() {
    Await.result(source.close());
    Await.result(vertx.close());
  }

  @Test
  void installingBehindALongWriteTransactionNeverStopsTheWriters() throws Exception {
    try (LogCapture logs = LogCapture.of(DdlLockWait.class); Connection holder = pg.connect(src); Statement h = holder.createStatement()) {
      h.execute("SET application_name = 'nightly-batch'");
      holder.setAutoCommit(false);
      h.execute("UPDATE items SET v = 1 WHERE id = 1"); // ROW EXCLUSIVE, held: idle in transaction
      int pid = holderPid(h);
      Future<Void> install = ChangeCapture.install(vertx, source, shape, true);
      double worst = writeWhile(src, "INSERT INTO items SELECT max(id) + 1, 0 FROM items", 2_500);
      assertTrue(worst < 5.0, "a writer waited " + worst + " s behind the DDL");
      assertFalse(install.isComplete(), "the install waits for the holder");
      // The first miss is logged at INFO (often an autovacuum that gives way), the next ones as warnings.
      List<String> warned = Eventually.value(Duration.ofSeconds(20), "a warning naming the holder", () -> {
        List<String> w = logs.messages(Level.WARN, "installing change capture");
        return w.isEmpty() ? null : w;
      });
      assertFalse(install.isComplete(), "the install waits for the holder");
      assertTrue(!warned.isEmpty() && warned.get(0).contains("pid " + pid + " (nightly-batch, idle in transaction, transaction open for ")
          && warned.get(0).contains("so the table's users do not queue behind Sluice's DDL"), warned.toString());
      holder.commit();
      Await.result(install, 1, TimeUnit.MINUTES);
      assertEquals("A,A,A", pg.string(src, "SELECT string_agg(tgenabled::text, ',') FROM pg_trigger WHERE tgrelid = 'items'::regclass"));
    }
  }

  @Test
  void droppingBehindALongReadNeverStopsTheReaders() throws Exception {
    Await.result(ChangeCapture.install(vertx, source, shape, true));
    try (Connection holder = pg.connect(src); Statement h = holder.createStatement()) {
      holder.setAutoCommit(false);
      h.execute("SELECT count(*) FROM items"); // ACCESS SHARE, held
      Future<Void> remove = ChangeCapture.remove(vertx, source, "items");
      double worst = writeWhile(src, "SELECT count(*) FROM items", 2_000);
      assertTrue(worst < 5.0, "a reader waited " + worst + " s behind the DROP");
      assertFalse(remove.isComplete(), "the drop waits for the holder");
      holder.commit();
      Await.result(remove, 1, TimeUnit.MINUTES);
      assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'items'::regclass"));
    }
  }

  @Test
  void afterItsPatienceTheDdlFailsNamingTheHolder() throws Exception {
    try (Connection holder = pg.connect(src); Statement h = holder.createStatement()) {
      h.execute("SET application_name = 'report'");
      holder.setAutoCommit(false);
      h.execute("UPDATE items SET v = 2 WHERE id = 2");
      int pid = holderPid(h);
      DdlLockWait wait = new DdlLockWait(vertx, source, Duration.ofSeconds(2), System::nanoTime);
      Throwable e = Await.result(wait.run("job items: installing change capture", DdlLockWait.table(), Tuple.of("public.items"),
          DdlLockWait.Blocks.WRITERS, timeout -> source.withTransaction(c -> c.query(timeout).execute()
              .compose(v -> c.query("LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE").execute())).map(v -> (Throwable) null))
          .otherwise(x -> x), 1, TimeUnit.MINUTES);
      String m = String.valueOf(e == null ? null : e.getMessage());
      assertTrue(m.startsWith("job items: installing change capture: no lock on the source table in ")
          && m.contains("held by pid " + pid + " (report, idle in transaction") && m.endsWith("End that transaction, or start again later"), m);
      holder.rollback();
    }
  }

  /**
   * The publication of logical capture needs the table's SHARE UPDATE EXCLUSIVE lock, which a VACUUM,
   * ANALYZE or index build holds as long as it runs: it waits a second an attempt and names the holder
   * (before, it waited in the queue until the statement timeout failed the job's capture set-up), and
   * lands once the holder ends.
   */
  @Test
  void thePublicationWaitsForMaintenanceWithoutQueueing() throws Exception {
    try (LogCapture logs = LogCapture.of(DdlLockWait.class); Connection holder = pg.connect(src); Statement h = holder.createStatement()) {
      h.execute("SET application_name = 'reindexer'");
      holder.setAutoCommit(false);
      h.execute("LOCK TABLE items IN SHARE UPDATE EXCLUSIVE MODE"); // as CREATE INDEX CONCURRENTLY holds it
      int pid = holderPid(h);
      Future<Boolean> ensure = LogicalSlot.ensure(vertx, source, "items", "public.items", name -> Future.succeededFuture());
      List<String> said = Eventually.value(Duration.ofSeconds(10), "a line naming the holder", () -> {
        List<String> l = logs.messages(Level.INFO, "creating publication sluice_items");
        return l.isEmpty() ? null : l;
      });
      assertTrue(said.get(0).contains("pid " + pid + " (reindexer, idle in transaction"), said.toString());
      assertFalse(ensure.isComplete(), "the publication waits for the holder");
      assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_publication WHERE pubname = 'sluice_items'"));
      holder.commit();
      assertTrue(Await.result(ensure, 1, TimeUnit.MINUTES));
      assertEquals(1, pg.scalar(src, "SELECT count(*) FROM pg_publication_rel WHERE prrelid = 'items'::regclass"));
    } finally {
      Await.result(LogicalSlot.drop(source, "items"));
    }
  }

  private static int holderPid(Statement h) throws Exception {
    try (var rs = h.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * Runs {@code sql} every 100 ms for {@code ms}, each with autocommit; returns the longest one took, in
   * seconds. Behind a DDL that waited in the queue, one would wait until the holder ends (after this
   * returns): its statement timeout, 20 s. Behind one that gives up after its lock timeout, at most that
   * (deadlock_timeout + 1 s: 2 s; the bound the test allows is 5 s, for a loaded machine).
   */
  private double writeWhile(String db, String sql, long ms) throws Exception {
    double worst = 0;
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
      s.execute("SET statement_timeout = '20s'");
      while (System.nanoTime() < end) {
        long t = System.nanoTime();
        s.execute(sql);
        worst = Math.max(worst, (System.nanoTime() - t) / 1e9);
        Eventually.pause(100);
      }
    }
    return worst;
  }
}
