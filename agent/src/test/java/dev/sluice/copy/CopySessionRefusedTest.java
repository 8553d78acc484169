package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.sluice.plan.KeyRange;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A segment whose COPY session cannot be opened (its server restarting, refusing connections) fails
 * at once, on either side: the other side's thread waits for this one (the target for chunks, the
 * source for room in the window), so the failure must end the pipe. Before, the pipe waited forever
 * and the job with it (a source restart mid-copy stalled the agent, and its stop timed out).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class CopySessionRefusedTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aSourceThatRefusesTheSessionFailsTheSegment(Vertx vertx, VertxTestContext ctx) {
    copyWhileRefusing(vertx, true).onComplete(ctx.succeeding(e -> ctx.verify(() -> {
      assertInstanceOf(SegmentCopier.SourceFailure.class, e, String.valueOf(e));
      assertEquals("55000", ((PgException) e.getCause()).getSqlState(), e.getCause().getMessage());
      ctx.completeNow();
    })));
  }

  @Test
  void aTargetThatRefusesTheSessionFailsTheSegment(Vertx vertx, VertxTestContext ctx) {
    copyWhileRefusing(vertx, false).onComplete(ctx.succeeding(e -> ctx.verify(() -> {
      assertInstanceOf(PgException.class, e, String.valueOf(e));
      assertEquals("55000", ((PgException) e).getSqlState(), e.getMessage());
      ctx.completeNow();
    })));
  }

  /** Copies one segment while the source's (or the target's) database accepts no new sessions; the copy's failure. */
  private Future<Throwable> copyWhileRefusing(Vertx vertx, boolean sourceSide) {
    String src = pg.createDatabase("refused_src");
    String tgt = pg.createDatabase("refused_tgt");
    // More rows than the window (2 KB) holds: a source waiting for a target that never opens fills it.
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    String refusing = sourceSide ? src : tgt;
    return CopyFixture.with(vertx, src, tgt, """
        {"name": "refused", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 2048,
        f -> f.claim(KeyRange.ALL).compose(seg ->
            // The fixture's pools keep their open sessions; only the COPY's new session is refused.
            f.exec("postgres", "ALTER DATABASE " + refusing + " ALLOW_CONNECTIONS false")
                .compose(v -> CopyFixture.failure(f.copy(seg, false, f.new Control())
                    .timeout(20, TimeUnit.SECONDS)))
                .eventually(() -> f.exec("postgres", "ALTER DATABASE " + refusing + " ALLOW_CONNECTIONS true"))
                .compose(e -> {
                  if (e instanceof TimeoutException) {
                    return Future.<Throwable>failedFuture(new AssertionError(
                        "the copy fails within 20 s instead of waiting for a session that never opens", e));
                  }
                  return f.scalar(tgt, "SELECT count(*) FROM items").map(n -> {
                    assertEquals(0, n, "nothing committed");
                    return e;
                  });
                })));
  }
}
