package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.Segment;
import dev.sluice.pace.Pacer;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import dev.sluice.verify.DataDrift;
import io.vertx.pgclient.PgException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The job's rules on the COPY path: a cut keeps the rows below its key and names it; a re-copy
 * purges its range in the same transaction, a first attempt that meets a row falls back to one;
 * the target's rejection and the source's cast failure carry the database's own message and class;
 * the pacer's rate holds while the stream flows.
 */
class CopyRulesTest {
  private final TestPg pg = TestPg.get();

  private CopyFixture fixture(String name, String targetExtra, int rows) {
    String src = pg.createDatabase(name + "_src");
    String tgt = pg.createDatabase(name + "_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty int NOT NULL, name text)",
        "INSERT INTO items SELECT g, g % 1000, 'item ' || g FROM generate_series(1, " + rows + ") g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, qty int NOT NULL" + targetExtra + ", name text)");
    return new CopyFixture(src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 16 * 1024);
  }

  private static final String ROWS = "SELECT row(id, qty, name)::text FROM items ORDER BY id";

  @Test
  void aCutKeepsTheRowsBelowItsKeyAndTheirHash() {
    try (CopyFixture f = fixture("cut", "", 10000)) {
      Segment seg = f.claim(new KeyRange(List.of("101"), null));
      CopyFixture.Control control = f.new Control();
      control.cut = n -> n >= 4000 ? "transaction time cap reached" : null;
      SegmentCopier.Result r = f.copy(seg, false, control);
      assertEquals("transaction time cap reached", r.cutReason());
      long cut = Long.parseLong(r.cutAt().get(0));
      assertEquals(cut - 101, r.rows(), "every row from the lower bound up to the cut, no more");
      assertEquals(r.rows(), f.pg.scalar(f.tgt, "SELECT count(*) FROM items"));
      assertEquals(cut - 1, f.pg.scalar(f.tgt, "SELECT max(id) FROM items"));
      assertEquals(new CopyPath.Sum(r.rows(), r.hash()), f.await(f.engine.targetSum(new KeyRange(List.of("101"), r.cutAt()))));
    }
  }

  @Test
  void aSegmentsAgeIsReadOnTheJobsClock() {
    try (CopyFixture f = fixture("age", "", 10000)) {
      Segment seg = f.claim(KeyRange.ALL);
      CopyFixture.Control control = f.new Control();
      AtomicLong now = new AtomicLong();
      control.nanos = now::get; // the job's clock stands still while the copy runs...
      control.beforeAdmit = n -> {
        if (n >= 3000) now.set(MINUTE); // ...until 3,000 rows are in: then a minute has passed on it
      };
      control.ageCut = age -> age >= MINUTE ? "transaction time cap reached" : null;
      SegmentCopier.Result r = f.copy(seg, false, control);
      assertEquals("transaction time cap reached", r.cutReason(), "the cap is judged on the job's clock, not the wall's");
      assertTrue(r.rows() >= 3000 && r.rows() < 10000, "rows " + r.rows());
      assertEquals(r.rows(), f.pg.scalar(f.tgt, "SELECT count(*) FROM items"));
    }
  }

  private static final long MINUTE = 60_000_000_000L;

  @Test
  void aReCopyPurgesItsRangeOnlyAndAFirstAttemptThatMeetsARowFallsBackToIt() {
    try (CopyFixture f = fixture("purge", "", 5000)) {
      // Left by an earlier attempt inside the range (stale, or gone from the source), and a row outside it.
      f.pg.exec(f.tgt, "INSERT INTO items VALUES (10, 0, 'stale'), (2500, 0, 'gone from the source'), (6000, 1, 'outside')");
      f.pg.exec(f.src, "DELETE FROM items WHERE id = 2500");
      Segment seg = f.claim(new KeyRange(null, List.of("5001")));
      SegmentCopier.Result r = f.copy(seg, true, f.new Control());
      assertEquals(4999, r.rows());
      assertEquals(4999, Tables.assertSameRows(pg, f.src, ROWS, f.tgt, "SELECT row(id, qty, name)::text FROM items WHERE id < 5001 ORDER BY id"));
      assertEquals("outside", f.pg.string(f.tgt, "SELECT name FROM items WHERE id = 6000"));

      // A first attempt (no purge asked) into a range holding a row: 23505, then purge and copy again.
      f.pg.exec(f.tgt, "DELETE FROM items WHERE id <> 100", "UPDATE items SET name = 'stale' WHERE id = 100");
      Segment again = f.claim(new KeyRange(null, List.of("5001")));
      SegmentCopier.Result r2 = f.copy(again, false, f.new Control());
      assertEquals(4999, r2.rows());
      assertEquals(4999, Tables.assertSameRows(pg, f.src, ROWS, f.tgt, ROWS));
    }
  }

  @Test
  void aRowTheTargetRejectsFailsTheCopyWithTheDatabasesMessageAndNothingCommits() {
    try (CopyFixture f = fixture("check", " CHECK (qty <> 777)", 3000)) {
      Segment seg = f.claim(KeyRange.ALL);
      Throwable e = assertThrows(RuntimeException.class, () -> f.copy(seg, false, f.new Control()));
      assertEquals(ErrorClass.PERMANENT, ErrorClassifier.classify(e));
      PgException pg = assertInstanceOf(PgException.class, e);
      assertEquals("23514", pg.getSqlState());
      String what = ErrorClassifier.describe(e);
      assertTrue(what.contains("items_qty_check") && what.contains("Failing row contains (777, 777"), what);
      assertEquals(0, f.pg.scalar(f.tgt, "SELECT count(*) FROM items"));
    }
  }

  @Test
  void aSourceValueTheTargetTypeCannotHoldIsDataDriftFromTheSource() {
    String src = pg.createDatabase("drift_src");
    String tgt = pg.createDatabase("drift_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, qty bigint NOT NULL)",
        "INSERT INTO items SELECT g, CASE WHEN g = 1500 THEN 5000000000 ELSE g END FROM generate_series(1, 3000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, qty int NOT NULL)");
    try (CopyFixture f = new CopyFixture(src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 16 * 1024)) {
      Segment seg = f.claim(KeyRange.ALL);
      Throwable e = assertThrows(RuntimeException.class, () -> f.copy(seg, false, f.new Control()));
      assertInstanceOf(SegmentCopier.SourceFailure.class, e, "the cast to the target type runs on the source");
      assertTrue(DataDrift.isDataException(e), ErrorClassifier.describe(e));
      assertEquals(ErrorClass.PERMANENT, ErrorClassifier.classify(e));
      assertEquals(0, f.pg.scalar(tgt, "SELECT count(*) FROM items"));
    }
  }

  @Test
  void thePacersRateHoldsWithinTenPercentWhileTheStreamFlows() throws Exception {
    try (CopyFixture f = fixture("paced", "", 12000)) {
      Segment seg = f.claim(KeyRange.ALL);
      CopyFixture.Control control = f.new Control();
      control.pacer = new Pacer(f.vertx, 2500.0, 2500, System::nanoTime);
      var copy = f.engine.copy(seg, false, control);
      // As PacingTest measures the job: rows written over a window once the stream runs (the burst spent).
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (control.written.get() < 3000 && System.nanoTime() < deadline) Thread.sleep(5);
      long r0 = control.written.get();
      long t0 = System.nanoTime();
      Thread.sleep(3000);
      double rate = (control.written.get() - r0) / ((System.nanoTime() - t0) / 1e9);
      assertEquals(12000, f.await(copy).rows());
      assertEquals(2500, rate, 250, "rows/s written over a 3 s window");
    }
  }
}
