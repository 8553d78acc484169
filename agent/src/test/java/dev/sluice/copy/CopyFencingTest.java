package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.testing.TestPg;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A COPY written by an agent that lost its lease never commits: whether the epoch moved on, the
 * lease ran out while the COPY streamed, or another agent tried to take the segment over meanwhile
 * (which the COPY's fence holds off). And a segment stopped part way (cancelled) commits nothing.
 */
class CopyFencingTest {
  private final TestPg pg = TestPg.get();

  private CopyFixture fixture(String name) {
    String src = pg.createDatabase(name + "_src");
    String tgt = pg.createDatabase(name + "_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, repeat('x', 50) || g FROM generate_series(1, 20000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    return new CopyFixture(src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 8192);
  }

  private static Throwable failure(CopyFixture f, Segment seg, CopyFixture.Control control) {
    return assertThrows(RuntimeException.class, () -> f.copy(seg, false, control));
  }

  @Test
  void anEpochThatMovedOnMidCopyCommitsNothing() {
    try (CopyFixture f = fixture("fence_epoch")) {
      Segment seg = f.claim(KeyRange.ALL);
      CopyFixture.Control control = f.new Control();
      AtomicBoolean once = new AtomicBoolean();
      // Not blocked by the COPY's KEY SHARE lock: the epoch is not a key column (the owner's heartbeat updates the row the same way).
      control.beforeAdmit = n -> {
        if (n >= 5000 && once.compareAndSet(false, true)) f.pg.exec(f.tgt, "UPDATE sluice.segments SET lease_epoch = lease_epoch + 1 WHERE job = 'items'");
      };
      Throwable e = failure(f, seg, control);
      assertEquals(ErrorClass.FENCED, ErrorClassifier.classify(e), ErrorClassifier.describe(e));
      assertTrue(control.written.get() > 5000, "the COPY had streamed rows into the target: " + control.written.get());
      assertEquals(0, f.pg.scalar(f.tgt, "SELECT count(*) FROM items"), "nothing committed");
    }
  }

  @Test
  void aLeaseThatRanOutMidCopyIsNotTakenOverUnderItAndCommitsNothing() {
    try (CopyFixture f = fixture("fence_expiry")) {
      Segment seg = f.claim(KeyRange.ALL);
      CopyFixture.Control control = f.new Control();
      Ledger other = new Ledger(f.targetPool, "agent-2");
      AtomicBoolean once = new AtomicBoolean();
      AtomicReference<Segment> takeover = new AtomicReference<>();
      control.beforeAdmit = n -> {
        if (n < 5000 || !once.compareAndSet(false, true)) return;
        // As if this agent froze past its lease term: the lease is expired, and another agent tries to claim the segment.
        f.pg.exec(f.tgt, "UPDATE sluice.segments SET lease_expires_at = now() - interval '1 second' WHERE job = 'items'");
        takeover.set(f.await(other.claim("items", CopyFixture.LEASE, false)));
      };
      Throwable e = failure(f, seg, control);
      assertNull(takeover.get(), "the COPY's fence holds off a takeover while it writes");
      assertEquals(ErrorClass.FENCED, ErrorClassifier.classify(e), ErrorClassifier.describe(e));
      assertEquals(0, f.pg.scalar(f.tgt, "SELECT count(*) FROM items"), "nothing committed");
      // Once the COPY rolled back, the expired segment is free to take over.
      Segment taken = f.await(other.claim("items", CopyFixture.LEASE, false));
      assertEquals(seg.seq(), taken.seq());
      assertEquals(seg.epoch() + 1, taken.epoch());
    }
  }

  @Test
  void aCopyWithoutTheLeaseWritesNothingAtAll() {
    try (CopyFixture f = fixture("fence_none")) {
      Segment seg = f.claim(KeyRange.ALL);
      f.pg.exec(f.tgt, "UPDATE sluice.segments SET owner = 'someone-else' WHERE job = 'items'");
      CopyFixture.Control control = f.new Control();
      Throwable e = failure(f, seg, control);
      assertEquals(ErrorClass.FENCED, ErrorClassifier.classify(e));
      assertEquals(0, control.written.get(), "refused before any row was sent");
      assertEquals(0, f.pg.scalar(f.tgt, "SELECT count(*) FROM items"));
    }
  }

  @Test
  void aCancelledCopyCommitsNothingAndLetsItsSessionsGo() {
    try (CopyFixture f = fixture("cancel")) {
      Segment seg = f.claim(KeyRange.ALL);
      CopyFixture.Control control = f.new Control();
      control.beforeAdmit = n -> {
        if (n >= 3000) control.cancel = true;
      };
      Throwable e = failure(f, seg, control);
      assertInstanceOf(SegmentCopier.Cancelled.class, e);
      assertEquals(0, f.pg.scalar(f.tgt, "SELECT count(*) FROM items"));
      // Neither session is left in a transaction (the snapshot and the COPY ended with the segment).
      assertEquals(0, f.pg.scalar("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'sluice-copy-%' "
          + "AND state <> 'idle' AND datname IN ('" + f.src + "', '" + f.tgt + "')"));
      // The engine goes on: the same segment copies whole afterwards.
      SegmentCopier.Result r = f.copy(seg, true, f.new Control());
      assertEquals(20000, r.rows());
      assertEquals(20000, f.pg.scalar(f.tgt, "SELECT count(*) FROM items"));
    }
  }
}
