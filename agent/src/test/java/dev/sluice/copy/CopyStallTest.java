package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A database that stops answering in the middle of a COPY (a network partition, a frozen host: no
 * reset, no FIN; here a proxy between the engine and the server that stops forwarding) fails the
 * segment within the stall timeout, saying which side stalled, instead of hanging in a socket read
 * (two hours of TCP keepalive) or write (about 15 minutes of retransmissions). The failure is
 * transient: once the database answers again, the retry copies the segment whole, nothing lost.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class CopyStallTest {
  private static final Duration STALL = Duration.ofSeconds(2);
  /** About 25 MB: far more than the loopback sockets' buffers hold, so a frozen peer blocks the stream. */
  private static final long ROWS = 250_000;
  private static final String JOB = """
      {"name": "stall", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""";
  private static final String TABLE_SUM = "SELECT count(*) || ' ' || md5(string_agg(id || ':' || name, ',' ORDER BY id)) FROM items";

  private final TestPg pg = TestPg.get();
  /** The source, only ever read: one for the class (its 25 MB take a while to write). */
  private static String src;
  private String tgt;
  private FreezingProxy sourceProxy;
  private FreezingProxy targetProxy;

  @BeforeAll
  static void source() {
    TestPg pg = TestPg.get();
    src = pg.createDatabase("stall_src");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g || ' ' || repeat('x', 80) FROM generate_series(1, " + ROWS + ") g");
  }

  @BeforeEach
  void databases() throws IOException {
    tgt = pg.createDatabase("stall_tgt");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    sourceProxy = new FreezingProxy(pg.host(), pg.port());
    targetProxy = new FreezingProxy(pg.host(), pg.port());
  }

  @AfterEach
  void proxies() throws IOException {
    sourceProxy.close();
    targetProxy.close();
  }

  @Test
  void aSourceThatFreezesMidCopyFailsTheSegmentWithinTheStallTimeoutAndTheRetryCopiesItWhole(Vertx vertx, VertxTestContext ctx) {
    freezeMidCopy(vertx, sourceProxy, "source").onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aTargetThatFreezesMidCopyFailsTheSegmentWithinTheStallTimeoutAndTheRetryCopiesItWhole(Vertx vertx, VertxTestContext ctx) {
    freezeMidCopy(vertx, targetProxy, "target").onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aReadBackFromATargetThatFrozeFailsInsteadOfHanging(Vertx vertx, VertxTestContext ctx) {
    // A range of the table is enough: the read-back waits on the frozen target before its first row.
    KeyRange some = new KeyRange(null, List.of("20001"));
    CopyFixture.with(vertx, src, tgt, JOB, 64 * 1024, STALL, this::viaProxies, f -> f.claim(some)
        .compose(seg -> f.copy(seg, false, f.new Control()))
        .compose(r -> {
          assertEquals(20_000, r.rows(), "the range copied");
          targetProxy.freeze();
          long frozeAt = System.nanoTime();
          return CopyFixture.failure(f.engine.targetSum(some).map(sum -> new SegmentCopier.Result(sum.rows(), sum.hash()))
                  .timeout(60, TimeUnit.SECONDS))
              .map(e -> {
                long waited = System.nanoTime() - frozeAt;
                DatabaseStalled stalled = assertInstanceOf(DatabaseStalled.class, e, String.valueOf(e));
                assertTrue(stalled.getMessage().startsWith("the target stalled: no answer for "), stalled.getMessage());
                // Opening the session waits out an idle session's check (the stall timeout) and the new
                // session's opening (at most twice the stall timeout): the watch reports, those end the thread.
                assertTrue(waited < Duration.ofSeconds(30).toNanos(), "failed after " + waited / 1_000_000 + " ms");
                return null;
              });
        })
        .eventually(() -> {
          targetProxy.thaw();
          return Future.succeededFuture();
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Copies the table through both proxies, freezing {@code frozen} once about 10,000 rows were
   * admitted; expects the copy to fail with a stall of {@code side} no sooner than the stall timeout
   * after the freeze and within a few seconds of it, then thaws it and copies again as a retry does.
   */
  private Future<Void> freezeMidCopy(Vertx vertx, FreezingProxy frozen, String side) {
    AtomicLong frozeAt = new AtomicLong();
    return CopyFixture.<Void>with(vertx, src, tgt, JOB, 64 * 1024, STALL, this::viaProxies, f -> f.claim(KeyRange.ALL).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      control.beforeAdmit = admitted -> {
        if (admitted >= 10_000 && frozeAt.get() == 0) {
          frozen.freeze();
          frozeAt.set(System.nanoTime());
        }
        return Future.succeededFuture();
      };
      return CopyFixture.failure(f.copy(seg, false, control).timeout(60, TimeUnit.SECONDS))
          .compose(e -> {
            long waited = System.nanoTime() - frozeAt.get();
            frozen.thaw();
            assertTrue(frozeAt.get() > 0, "frozen mid-copy");
            Throwable cause = side.equals("source") ? assertInstanceOf(SegmentCopier.SourceFailure.class, e, String.valueOf(e)).getCause() : e;
            DatabaseStalled stalled = assertInstanceOf(DatabaseStalled.class, cause, String.valueOf(e));
            assertTrue(stalled.getMessage().startsWith("the " + side + " stalled: no answer for "), stalled.getMessage());
            assertTrue(stalled.getMessage().endsWith("(sessions.stallTimeoutMs 2000); its sessions were aborted"), stalled.getMessage());
            assertEquals(stalled.getMessage(), ErrorClassifier.describe(e), "the ledger's and the log's reason");
            assertEquals(ErrorClass.TRANSIENT, ErrorClassifier.classify(e), "retried with backoff");
            assertTrue(ErrorClassifier.isConnectionLoss(e), "counted by the database's breaker");
            assertTrue(waited >= STALL.toNanos(), "not before the stall timeout: " + waited / 1_000_000 + " ms");
            assertTrue(waited < STALL.plusSeconds(8).toNanos(), "within the stall timeout and a few ticks: " + waited / 1_000_000 + " ms");
            return f.scalar(tgt, "SELECT count(*) FROM items");
          })
          .compose(n -> {
            assertEquals(0, n, "the stalled attempt committed nothing");
            // The retry, as SegmentRun makes it: a fresh snapshot, the range purged first, through the same proxies.
            return f.copy(seg, true, f.new Control());
          })
          .compose(r -> {
            assertEquals(ROWS, r.rows());
            return f.string(src, TABLE_SUM);
          })
          .compose(source -> f.string(tgt, TABLE_SUM).<Void>map(target -> {
            assertEquals(ROWS + " " + source.substring(source.indexOf(' ') + 1), target, "the tables are equal");
            return null;
          }));
    })).eventually(() -> {
      frozen.thaw();
      return Future.succeededFuture();
    });
  }

  /** The engine's sessions go through the proxies; the fixture's pools and ledger do not. */
  private DatabaseConfig viaProxies(DatabaseConfig db) {
    int port = db.database().equals(src) ? sourceProxy.port() : targetProxy.port();
    return new DatabaseConfig("127.0.0.1", port, db.database(), db.user(), db.password(), db.passwordFile(), db.tls(), db.poolSize());
  }
}
