package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.pace.Pacer;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.testing.Async;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import dev.sluice.verify.DataDrift;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The job's rules on the COPY path: a cut keeps the rows below its key and names it; a re-copy
 * purges its range in the same transaction, a first attempt that meets a row falls back to one;
 * the target's rejection and the source's cast failure carry the database's own message and class;
 * the pacer's rate holds while the stream flows.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class CopyRulesTest {
  private final TestPg pg = TestPg.get();

  private static final String JOB = """
      {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""";

  /** Runs {@code test} on a fixture copying {@code rows} items into a target table with {@code targetExtra}. */
  private <T> Future<T> withItems(Vertx vertx, String name, String targetExtra, int rows, Function<CopyFixture, Future<T>> test) {
    String src = pg.createDatabase(name + "_src");
    String tgt = pg.createDatabase(name + "_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int NOT NULL, name text)",
        "INSERT INTO items SELECT g, g % 1000, 'item ' || g FROM generate_series(1, " + rows + ") g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, qty int NOT NULL" + targetExtra + ", name text)");
    return CopyFixture.with(vertx, src, tgt, JOB, 16 * 1024, test);
  }

  private static final String ROWS = "SELECT row(id, qty, name)::text FROM items ORDER BY id";

  @Test
  void aCutKeepsTheRowsBelowItsKeyAndTheirHash(Vertx vertx, VertxTestContext ctx) {
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "cut", "", 10000, f -> f.claim(new KeyRange(List.of("101"), null)).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      control.cut = n -> n >= 4000 ? "transaction time cap reached" : null;
      return f.copy(seg, false, control);
    }).compose(r -> {
      long cut = Long.parseLong(r.cutAt().get(0));
      ctx.verify(() -> {
        assertEquals("transaction time cap reached", r.cutReason());
        assertEquals(cut - 101, r.rows(), "every row from the lower bound up to the cut, no more");
      });
      return f.scalar(f.tgt, "SELECT count(*) FROM items")
          .compose(n -> {
            ctx.verify(() -> assertEquals(r.rows(), n));
            return f.scalar(f.tgt, "SELECT max(id) FROM items");
          })
          .compose(max -> {
            ctx.verify(() -> assertEquals(cut - 1, max));
            return f.engine.targetSum(new KeyRange(List.of("101"), r.cutAt()));
          })
          .map(sum -> {
            ctx.verify(() -> assertEquals(new CopyPath.Sum(r.rows(), r.hash()), sum));
            checked.flag();
            return null;
          });
    })).onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void aSegmentsAgeIsReadOnTheJobsClock(Vertx vertx, VertxTestContext ctx) {
    Checkpoint minutePassed = ctx.checkpoint();
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "age", "", 10000, f -> f.claim(KeyRange.ALL).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      AtomicLong now = new AtomicLong();
      control.nanos = now::get; // the job's clock stands still while the copy runs...
      control.beforeAdmit = n -> {
        if (n >= 3000 && now.getAndSet(MINUTE) != MINUTE) minutePassed.flag(); // ...until 3,000 rows are in: then a minute has passed on it
        return Future.succeededFuture();
      };
      control.ageCut = age -> age >= MINUTE ? "transaction time cap reached" : null;
      return f.copy(seg, false, control);
    }).compose(r -> {
      ctx.verify(() -> {
        assertEquals("transaction time cap reached", r.cutReason(), "the cap is judged on the job's clock, not the wall's");
        assertTrue(r.rows() >= 3000 && r.rows() < 10000, "rows " + r.rows());
      });
      return f.scalar(f.tgt, "SELECT count(*) FROM items").map(n -> {
        ctx.verify(() -> assertEquals(r.rows(), n));
        checked.flag();
        return null;
      });
    })).onComplete(ctx.succeeding(v -> closed.flag()));
  }

  private static final long MINUTE = 60_000_000_000L;

  @Test
  void aReCopyPurgesItsRangeOnlyAndAFirstAttemptThatMeetsARowFallsBackToIt(Vertx vertx, VertxTestContext ctx) {
    Checkpoint copied = ctx.checkpoint(2);
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "purge", "", 5000, f ->
        // Left by an earlier attempt inside the range (stale, or gone from the source), and a row outside it.
        f.exec(f.tgt, "INSERT INTO items VALUES (10, 0, 'stale'), (2500, 0, 'gone from the source'), (6000, 1, 'outside')")
            .compose(v -> f.exec(f.src, "DELETE FROM items WHERE id = 2500"))
            .compose(v -> f.claim(new KeyRange(null, List.of("5001"))))
            .compose(seg -> f.copy(seg, true, f.new Control()))
            .compose(r -> {
              ctx.verify(() -> assertEquals(4999, r.rows()));
              return Async.blocking(vertx, () -> Tables.assertSameRows(pg, f.src, ROWS, f.tgt,
                  "SELECT row(id, qty, name)::text FROM items WHERE id < 5001 ORDER BY id"));
            })
            .compose(same -> {
              ctx.verify(() -> assertEquals(4999, same));
              return f.string(f.tgt, "SELECT name FROM items WHERE id = 6000");
            })
            .compose(outside -> {
              ctx.verify(() -> assertEquals("outside", outside));
              copied.flag();
              // A first attempt (no purge asked) into a range holding a row: 23505, then purge and copy again.
              return f.exec(f.tgt, "DELETE FROM items WHERE id <> 100", "UPDATE items SET name = 'stale' WHERE id = 100");
            })
            .compose(v -> f.claim(new KeyRange(null, List.of("5001"))))
            .compose(again -> f.copy(again, false, f.new Control()))
            .compose(r2 -> {
              ctx.verify(() -> assertEquals(4999, r2.rows()));
              return Async.blocking(vertx, () -> Tables.assertSameRows(pg, f.src, ROWS, f.tgt, ROWS));
            })
            .map(same -> {
              ctx.verify(() -> assertEquals(4999, same));
              copied.flag();
              return null;
            }))
        .onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void aRowTheTargetRejectsFailsTheCopyWithTheDatabasesMessageAndNothingCommits(Vertx vertx, VertxTestContext ctx) {
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "check", " CHECK (qty <> 777)", 3000, f -> f.claim(KeyRange.ALL)
        .compose(seg -> CopyFixture.failure(f.copy(seg, false, f.new Control())))
        .compose(e -> {
          ctx.verify(() -> {
            assertInstanceOf(RuntimeException.class, e);
            assertEquals(ErrorClass.PERMANENT, ErrorClassifier.classify(e));
            PgException pg = assertInstanceOf(PgException.class, e);
            assertEquals("23514", pg.getSqlState());
            String what = ErrorClassifier.describe(e);
            assertTrue(what.contains("items_qty_check") && what.contains("Failing row contains (777, 777"), what);
          });
          return f.scalar(f.tgt, "SELECT count(*) FROM items");
        })
        .map(n -> {
          ctx.verify(() -> assertEquals(0, n));
          checked.flag();
          return null;
        }))
        .onComplete(ctx.succeeding(v -> closed.flag()));
  }

  /** A target trigger that skips rows: the copy fails saying what does it (it said "COPY stored 2997 rows of the 3000 sent"). */
  @Test
  void aTargetTriggerThatSkipsRowsFailsTheCopySayingWhy(Vertx vertx, VertxTestContext ctx) {
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    withItems(vertx, "skipping", "", 3000, f -> f.exec(f.tgt,
            "CREATE FUNCTION skip_777() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.qty = 777 THEN RETURN NULL; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER skip_777 BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION skip_777()")
        .compose(v -> f.claim(KeyRange.ALL))
        .compose(seg -> CopyFixture.failure(f.copy(seg, false, f.new Control())))
        .compose(e -> {
          ctx.verify(() -> {
            assertEquals(ErrorClass.PERMANENT, ErrorClassifier.classify(e));
            String what = ErrorClassifier.describe(e);
            assertTrue(what.contains("the target's COPY stored 2997 rows of the 3000 sent: a trigger or rule on the target table skips")
                && what.contains("BEFORE INSERT trigger returning NULL"), what);
          });
          return f.scalar(f.tgt, "SELECT count(*) FROM items");
        })
        .map(n -> {
          ctx.verify(() -> assertEquals(0, n, "nothing committed"));
          checked.flag();
          return null;
        }))
        .onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void aSourceValueTheTargetTypeCannotHoldIsDataDriftFromTheSource(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("drift_src");
    String tgt = pg.createDatabase("drift_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty bigint NOT NULL)",
        "INSERT INTO items SELECT g, CASE WHEN g = 1500 THEN 5000000000 ELSE g END FROM generate_series(1, 3000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, qty int NOT NULL)");
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    CopyFixture.with(vertx, src, tgt, JOB, 16 * 1024, f -> f.claim(KeyRange.ALL)
        .compose(seg -> CopyFixture.failure(f.copy(seg, false, f.new Control())))
        .compose(e -> {
          ctx.verify(() -> {
            assertInstanceOf(RuntimeException.class, e);
            assertInstanceOf(SegmentCopier.SourceFailure.class, e, "the cast to the target type runs on the source");
            assertTrue(DataDrift.isDataException(e), ErrorClassifier.describe(e));
            assertEquals(ErrorClass.PERMANENT, ErrorClassifier.classify(e));
          });
          return f.scalar(tgt, "SELECT count(*) FROM items");
        })
        .map(n -> {
          ctx.verify(() -> assertEquals(0, n));
          checked.flag();
          return null;
        }))
        .onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void thePacersRateHoldsWithinTenPercentWhileTheStreamFlows(Vertx vertx, VertxTestContext ctx) {
    Checkpoint checked = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    // 16,000 rows at 2,500/s: 5 s of stream left when the 3 s window opens, so a late poll does not end it early.
    withItems(vertx, "paced", "", 16000, f -> f.claim(KeyRange.ALL).compose(seg -> {
      CopyFixture.Control control = f.new Control();
      control.pacer = new Pacer(f.vertx, 2500.0, 2500, System::nanoTime);
      Future<SegmentCopier.Result> copy = f.copy(seg, false, control);
      // As PacingTest measures the job: rows written over a window once the stream runs (the burst spent).
      long[] start = new long[2];
      return Async.until(vertx, Duration.ofSeconds(20), "3,000 rows written",
              () -> copy.failed() ? copy.map(r -> false) : Future.succeededFuture(control.written.get() >= 3000))
          .compose(v -> {
            start[0] = control.written.get();
            start[1] = System.nanoTime();
            return Async.pause(vertx, 3000);
          })
          .compose(v -> {
            double rate = (control.written.get() - start[0]) / ((System.nanoTime() - start[1]) / 1e9);
            return copy.map(r -> {
              ctx.verify(() -> {
                assertEquals(16000, r.rows());
                assertEquals(2500, rate, 250, "rows/s written over a 3 s window");
              });
              checked.flag();
              return null;
            });
          });
    })).onComplete(ctx.succeeding(v -> closed.flag()));
  }
}
