package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.plan.KeyRange;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The COPY sessions kept open between segments die with their server's restart (or a DBA's
 * {@code pg_terminate_backend}); the next segment gets a session that answers, not a dead one. Before,
 * each dead idle session failed one segment attempt (57P01 after a source restart), and enough of
 * them in a row parked a segment that nothing was wrong with.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class CopyIdleSessionTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aSegmentAfterTheIdleSessionsWereEndedCopiesAtTheFirstAttempt(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("idle_src");
    String tgt = pg.createDatabase("idle_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    String sessions = "FROM pg_stat_activity WHERE application_name LIKE 'sluice-copy-%' AND datname IN ('" + src + "', '" + tgt + "')";
    CopyFixture.with(vertx, src, tgt, """
        {"name": "idle", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 4096,
        f -> f.claim(new KeyRange(null, List.of("1001")))
            .compose(first -> f.copy(first, false, f.new Control()))
            .compose(r -> {
              ctx.verify(() -> assertEquals(1000, r.rows()));
              // Both sides' sessions are idle in the engine's pools now; the servers end them.
              return f.scalar("postgres", "SELECT count(*) " + sessions);
            })
            .compose(n -> {
              ctx.verify(() -> assertEquals(2, n, "one idle session a side"));
              return f.exec("postgres", "SELECT pg_terminate_backend(pid) " + sessions);
            })
            .compose(v -> Async.until(vertx, Duration.ofSeconds(10), "the sessions ended",
                () -> f.scalar("postgres", "SELECT count(*) " + sessions).map(n -> n == 0)))
            .compose(v -> f.claim(new KeyRange(List.of("1001"), null)))
            .compose(second -> f.copy(second, false, f.new Control()))
            .compose(r -> {
              ctx.verify(() -> assertEquals(1000, r.rows(), "copied with new sessions, at the first attempt"));
              return f.scalar(tgt, "SELECT count(*) FROM items");
            })
            .map(n -> {
              ctx.verify(() -> assertEquals(2000, n));
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
