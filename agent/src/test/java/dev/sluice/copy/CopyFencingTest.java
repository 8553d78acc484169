package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A COPY written by an agent that lost its lease never commits: whether the epoch moved on, the
 * lease ran out while the COPY streamed, or another agent tried to take the segment over meanwhile
 * (which the COPY's fence holds off). And a segment stopped part way (cancelled) commits nothing.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class CopyFencingTest {
  private final TestPg pg = TestPg.get();

  /** Runs {@code test} on a fixture copying 20,000 rows. */
  private <T> Future<T> withItems(Vertx vertx, String name, Function<CopyFixture, Future<T>> test) {
    String src = pg.createDatabase(name + "_src");
    String tgt = pg.createDatabase(name + "_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, repeat('x', 50) || g FROM generate_series(1, 20000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    return CopyFixture.with(vertx, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 8192, test);
  }

  @Test
  void anEpochThatMovedOnMidCopyCommitsNothing(Vertx vertx, VertxTestContext ctx) {
    Checkpoint epochMoved = ctx.checkpoint();
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "fence_epoch", f -> f.claim(KeyRange.ALL).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      AtomicBoolean once = new AtomicBoolean();
      // Not blocked by the COPY's KEY SHARE lock: the epoch is not a key column (the owner's heartbeat updates the row the same way).
      control.beforeAdmit = n -> {
        if (n < 5000 || !once.compareAndSet(false, true)) return Future.succeededFuture();
        return f.exec(f.tgt, "UPDATE sluice.segments SET lease_epoch = lease_epoch + 1 WHERE job = 'items'").onSuccess(v -> epochMoved.flag());
      };
      return CopyFixture.failure(f.copy(seg, false, control)).compose(e -> {
        ctx.verify(() -> {
          assertInstanceOf(RuntimeException.class, e);
          assertEquals(ErrorClass.FENCED, ErrorClassifier.classify(e), ErrorClassifier.describe(e));
          assertTrue(control.written.get() > 5000, "the COPY had streamed rows into the target: " + control.written.get());
        });
        return f.scalar(f.tgt, "SELECT count(*) FROM items");
      });
    }).map(n -> {
      ctx.verify(() -> assertEquals(0, n, "nothing committed"));
      checked.flag();
      return null;
    })).onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void aLeaseThatRanOutMidCopyIsNotTakenOverUnderItAndCommitsNothing(Vertx vertx, VertxTestContext ctx) {
    Checkpoint takeoverTried = ctx.checkpoint();
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "fence_expiry", f -> f.claim(KeyRange.ALL).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      Ledger other = new Ledger(f.targetPool, "agent-2");
      AtomicBoolean once = new AtomicBoolean();
      AtomicReference<Segment> takeover = new AtomicReference<>();
      control.beforeAdmit = n -> {
        if (n < 5000 || !once.compareAndSet(false, true)) return Future.succeededFuture();
        // As if this agent froze past its lease term: the lease is expired, and another agent tries to claim the segment.
        return f.exec(f.tgt, "UPDATE sluice.segments SET lease_expires_at = now() - interval '1 second' WHERE job = 'items'")
            .compose(v -> other.claim("items", CopyFixture.LEASE, false))
            .map(s -> {
              takeover.set(s);
              takeoverTried.flag();
              return null;
            });
      };
      return CopyFixture.failure(f.copy(seg, false, control)).compose(e -> {
        ctx.verify(() -> {
          assertInstanceOf(RuntimeException.class, e);
          assertNull(takeover.get(), "the COPY's fence holds off a takeover while it writes");
          assertEquals(ErrorClass.FENCED, ErrorClassifier.classify(e), ErrorClassifier.describe(e));
        });
        return f.scalar(f.tgt, "SELECT count(*) FROM items");
      }).compose(n -> {
        ctx.verify(() -> assertEquals(0, n, "nothing committed"));
        // Once the COPY rolled back, the expired segment is free to take over.
        return other.claim("items", CopyFixture.LEASE, false);
      }).map(taken -> {
        ctx.verify(() -> {
          assertEquals(seg.seq(), taken.seq());
          assertEquals(seg.epoch() + 1, taken.epoch());
        });
        checked.flag();
        return null;
      });
    })).onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void aCopyWithoutTheLeaseWritesNothingAtAll(Vertx vertx, VertxTestContext ctx) {
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "fence_none", f -> f.claim(KeyRange.ALL).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      return f.exec(f.tgt, "UPDATE sluice.segments SET owner = 'someone-else' WHERE job = 'items'")
          .compose(v -> CopyFixture.failure(f.copy(seg, false, control)))
          .compose(e -> {
            ctx.verify(() -> {
              assertInstanceOf(RuntimeException.class, e);
              assertEquals(ErrorClass.FENCED, ErrorClassifier.classify(e));
              assertEquals(0, control.written.get(), "refused before any row was sent");
            });
            return f.scalar(f.tgt, "SELECT count(*) FROM items");
          });
    }).map(n -> {
      ctx.verify(() -> assertEquals(0, n));
      checked.flag();
      return null;
    })).onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void aCancelledCopyCommitsNothingAndLetsItsSessionsGo(Vertx vertx, VertxTestContext ctx) {
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "cancel", f -> f.claim(KeyRange.ALL).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      control.beforeAdmit = n -> {
        if (n >= 3000) control.cancel = true;
        return Future.succeededFuture();
      };
      return CopyFixture.failure(f.copy(seg, false, control)).compose(e -> {
        ctx.verify(() -> {
          assertInstanceOf(RuntimeException.class, e);
          assertInstanceOf(SegmentCopier.Cancelled.class, e);
        });
        return f.scalar(f.tgt, "SELECT count(*) FROM items");
      }).compose(n -> {
        ctx.verify(() -> assertEquals(0, n));
        // Neither session is left in a transaction (the snapshot and the COPY ended with the segment).
        return f.scalar("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'sluice-copy-%' "
            + "AND state <> 'idle' AND datname IN ('" + f.src + "', '" + f.tgt + "')");
      }).compose(busy -> {
        ctx.verify(() -> assertEquals(0, busy));
        // The engine goes on: the same segment copies whole afterwards.
        return f.copy(seg, true, f.new Control());
      }).compose(r -> {
        ctx.verify(() -> assertEquals(20000, r.rows()));
        return f.scalar(f.tgt, "SELECT count(*) FROM items");
      }).map(n -> {
        ctx.verify(() -> assertEquals(20000, n));
        checked.flag();
        return null;
      });
    })).onComplete(ctx.succeeding(v -> closed.flag()));
  }
}
