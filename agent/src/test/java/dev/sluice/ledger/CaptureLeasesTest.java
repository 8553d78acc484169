package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** One reader of a job's slot at a time: taken, renewed, taken over once expired, handed back on a clean stop. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class CaptureLeasesTest {
  private final TestPg pg = TestPg.get();

  @Test
  void oneHolderAtATime(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("cl");
    Pool pool = Databases.pool(vertx, TestPg.config(PgConnectOptions.fromUri(pg.url(db)), 2),
        "sluice-test", 2);
    CaptureLeases a = new CaptureLeases(pool, "agent-a");
    CaptureLeases b = new CaptureLeases(pool, "agent-b");
    Duration term = Duration.ofSeconds(30);
    LedgerSchema.ensure(pool)
        .compose(v -> a.acquire("orders", term))
        .compose(epoch -> {
          ctx.verify(() -> assertNull(epoch, "no such job: no lease"));
          return Async.exec(pool, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
              + "VALUES ('orders', 'copying', 'public.orders', 'public.orders', '{id}', '{bigint}')");
        })
        .compose(v -> a.acquire("orders", term))
        .compose(epoch -> {
          ctx.verify(() -> assertEquals(1L, epoch));
          return b.acquire("orders", term);
        })
        .compose(epoch -> {
          ctx.verify(() -> assertNull(epoch, "a live lease keeps the other agent out"));
          return a.acquire("orders", term);
        })
        .compose(epoch -> {
          ctx.verify(() -> assertEquals(1L, epoch, "renewed at the same epoch"));
          return b.holder("orders");
        })
        .compose(holder -> {
          ctx.verify(() -> assertEquals(new CaptureLeases.Holder("agent-a", 1), holder));
          // a dies: its short term runs out and b takes over, at the next epoch.
          return a.acquire("orders", Duration.ofMillis(200));
        })
        .compose(epoch -> {
          ctx.verify(() -> assertEquals(1L, epoch));
          return Async.until(vertx, Duration.ofSeconds(10), "the lease expired", () -> b.holder("orders").map(Objects::isNull));
        })
        .compose(v -> b.acquire("orders", term))
        .compose(epoch -> {
          ctx.verify(() -> assertEquals(2L, epoch));
          return a.acquire("orders", term);
        })
        .compose(epoch -> {
          ctx.verify(() -> assertNull(epoch));
          // b stops cleanly: a may take it at once.
          return b.release("orders");
        })
        .compose(v -> a.acquire("orders", term))
        .compose(epoch -> {
          ctx.verify(() -> assertEquals(3L, epoch));
          return Future.all(Async.scalar(pool, "SELECT count(*) FROM sluice.events WHERE kind = 'capture.reader'"),
              Async.text(pool, "SELECT message FROM sluice.events WHERE kind = 'capture.reader' ORDER BY id OFFSET 1 LIMIT 1"));
        })
        .eventually(pool::close)
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals(3L, (Long) all.resultAt(0));
          assertEquals("agent agent-b reads the replication slot (epoch 2, after agent-a)", all.resultAt(1));
          ctx.completeNow();
        })));
  }
}
