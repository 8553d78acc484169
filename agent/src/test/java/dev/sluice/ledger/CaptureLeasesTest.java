package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** One reader of a job's slot at a time: taken, renewed, taken over once expired, handed back on a clean stop. */
class CaptureLeasesTest {
  private final TestPg pg = TestPg.get();

  @Test
  void oneHolderAtATime() {
    String db = pg.createDatabase("cl");
    Vertx vertx = Vertx.vertx();
    Pool pool = Databases.pool(vertx, TestPg.config(PgConnectOptions.fromUri(pg.url(db)), 2),
        "sluice-test", 2);
    try {
      Await.result(LedgerSchema.ensure(pool));
      CaptureLeases a = new CaptureLeases(pool, "agent-a");
      CaptureLeases b = new CaptureLeases(pool, "agent-b");
      Duration term = Duration.ofSeconds(30);
      assertNull(Await.result(a.acquire("orders", term)), "no such job: no lease");
      pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
          + "VALUES ('orders', 'copying', 'public.orders', 'public.orders', '{id}', '{bigint}')");
      assertEquals(1L, Await.result(a.acquire("orders", term)));
      assertNull(Await.result(b.acquire("orders", term)), "a live lease keeps the other agent out");
      assertEquals(1L, Await.result(a.acquire("orders", term)), "renewed at the same epoch");
      assertEquals(new CaptureLeases.Holder("agent-a", 1), Await.result(b.holder("orders")));

      // a dies: its short term runs out and b takes over, at the next epoch.
      assertEquals(1L, Await.result(a.acquire("orders", Duration.ofMillis(200))));
      Eventually.until(Duration.ofSeconds(10), "the lease expired", () -> Await.result(b.holder("orders")) == null);
      assertEquals(2L, Await.result(b.acquire("orders", term)));
      assertNull(Await.result(a.acquire("orders", term)));
      // b stops cleanly: a may take it at once.
      Await.result(b.release("orders"));
      assertEquals(3L, Await.result(a.acquire("orders", term)));
      assertEquals(3, pg.scalar(db, "SELECT count(*) FROM sluice.events WHERE kind = 'capture.reader'"));
      assertEquals("agent agent-b reads the replication slot (epoch 2, after agent-a)",
          pg.string(db, "SELECT message FROM sluice.events WHERE kind = 'capture.reader' ORDER BY id OFFSET 1 LIMIT 1"));
    } finally {
      Await.result(pool.close());
      Await.result(vertx.close());
    }
  }
}
