package dev.sluice.capture;

import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/** Writes for capture tests: inserts, updates, key updates, deletes and multi-row updates at random over {@code items}. */
final class Writes {
  private Writes() {}

  /** Writes at random over ids 1..{@code span} (and a key moved past it) until {@code stop}; counts in {@code writes}. */
  static void random(TestPg pg, String db, long span, AtomicBoolean stop, AtomicLong writes) {
    SplittableRandom rnd = new SplittableRandom(7);
    try (Connection c = pg.connect(db);
        PreparedStatement ins = c.prepareStatement("INSERT INTO items VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty");
        PreparedStatement upd = c.prepareStatement("UPDATE items SET name = name || '+', qty = ? WHERE id = ?");
        PreparedStatement key = c.prepareStatement("UPDATE items SET id = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM items WHERE id = ?)");
        PreparedStatement del = c.prepareStatement("DELETE FROM items WHERE id = ?");
        PreparedStatement multi = c.prepareStatement("UPDATE items SET qty = qty + 1 WHERE id BETWEEN ? AND ? + 20")) {
      while (!stop.get()) {
        long id = 1 + rnd.nextLong(span);
        switch (rnd.nextInt(5)) {
          case 0 -> {
            ins.setLong(1, id);
            ins.setString(2, "new " + id);
            ins.setInt(3, rnd.nextInt(1000));
            ins.executeUpdate();
          }
          case 1 -> {
            upd.setInt(1, rnd.nextInt(1000));
            upd.setLong(2, id);
            upd.executeUpdate();
          }
          case 2 -> {
            // The key itself changes: the old key must go from the target, the new one arrive.
            long to = 1 + rnd.nextLong(span);
            key.setLong(1, to);
            key.setLong(2, id);
            key.setLong(3, to);
            key.executeUpdate();
          }
          case 3 -> {
            del.setLong(1, id);
            del.executeUpdate();
          }
          default -> {
            multi.setLong(1, id);
            multi.setLong(2, id);
            multi.executeUpdate();
          }
        }
        writes.incrementAndGet();
        // Paced (at most ~200 statements, about 1,000 changed keys a second): the tests wait for the job
        // to be in sync while the writer runs, which needs the applier to outrun the writer; unpaced, this
        // writer changed 5-7k keys/s, as fast as the applier drains on 2 shared cores, and in sync
        // became a race the writer could win for minutes. The applier's own speed is benchmark arm 9's.
        if (writes.get() % 2 == 0) Thread.sleep(10);
      }
    } catch (SQLException | InterruptedException e) {
      if (!stop.get()) throw new IllegalStateException("writer failed", e);
    }
  }

  static void waitFor(BooleanSupplier condition, int seconds) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError("condition not met within " + seconds + " s");
      Thread.sleep(100);
    }
  }
}
