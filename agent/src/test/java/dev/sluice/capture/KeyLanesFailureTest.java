package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A batch whose lanes end differently: one lane fails (the target refuses a row) while another is
 * still writing (held by a row lock on the target). The batch's outcome must wait for every lane:
 * the applier treats a failed batch as not applied (its keys are recorded and applied again in a
 * later cycle), so a lane of it still in flight then could write its older re-read of a key after
 * that later cycle wrote the key's newer row, and the target would keep the older row for good.
 */
class KeyLanesFailureTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aFailedBatchEndsOnlyOnceEveryLaneHasEnded() throws Exception {
    Vertx vertx = Vertx.vertx();
    String src = pg.createDatabase("klf_src");
    String tgt = pg.createDatabase("klf_tgt");
    List<List<String>> keys = new ArrayList<>();
    for (int i = 1; i <= 2000; i++) keys.add(List.of(String.valueOf(i)));
    List<List<List<String>>> lanes = KeyLanes.split(keys, 2);
    assertEquals(2, lanes.size());
    String held = lanes.get(0).get(0).get(0);
    String refused = lanes.get(1).get(0).get(0);
    pg.exec(src, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)",
        "INSERT INTO t SELECT g, 'new' FROM generate_series(1, 2000) g", "UPDATE t SET v = 'bad' WHERE id = " + refused);
    pg.exec(tgt, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL CHECK (v <> 'bad'))",
        "INSERT INTO t SELECT g, 'old' FROM generate_series(1, 2000) g");
    SyncSetup s = SyncSetup.open(vertx, pg, src, tgt, "klf");
    try (Connection lock = pg.connect(tgt)) {
      lock.setAutoCommit(false);
      try (Statement st = lock.createStatement()) {
        st.execute("SELECT 1 FROM t WHERE id = " + held + " FOR UPDATE");
      }
      Future<Void> batch = vertx.executeBlocking(() -> SyncSetup.await(new KeyLanes(2).sync(new KeySync(s.shape(), s.source(), s.target()), keys)), false);
      // The refused lane fails within moments; the held lane waits on the lock meanwhile.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!batch.isComplete() && System.nanoTime() < deadline) Thread.sleep(50);
      assertFalse(batch.isComplete(), "the batch ended while one of its lanes was still writing");
      lock.rollback();
      SyncSetup.await(batch.transform(ar -> Future.succeededFuture(ar.failed())).map(failed -> {
        assertTrue(failed, "the batch failed (one lane did)");
        return null;
      }));
    } finally {
      s.close();
      SyncSetup.await(vertx.close());
    }
  }
}
