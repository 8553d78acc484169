package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A leased segment as the ledger holds it ({@link SegmentBounds}): after a cut the run holding the lease
 * reads its shorter range and rows planned (what it goes on with when the cut's answer never came, a
 * stall); once the lease is gone it reads nothing.
 */
class SegmentBoundsTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aCutSegmentReadsItsShorterRangeUnderItsLeaseAndNothingOnceTheLeaseIsGone() {
    Vertx vertx = Vertx.vertx();
    String db = pg.createDatabase("bounds");
    Pool pool = Databases.pool(vertx, pg.database(db), "sluice-ledger-test", 2);
    try {
      Ledger ledger = new Ledger(pool, "agent-a");
      await(LedgerSchema.ensure(pool));
      pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
          + "VALUES ('j', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')",
          "INSERT INTO sluice.segments (job, seq, lower_bound, upper_bound, rows_planned) VALUES ('j', 0, '{0}', '{100}', 100)");
      Segment claimed = await(ledger.claim("j", Duration.ofSeconds(30), false));
      assertEquals(List.of("100"), await(SegmentBounds.held(pool, "agent-a", claimed)).range().upper());

      assertEquals(1, (int) await(ledger.split(claimed, List.of("40"), 40, "test")));
      Segment now = await(SegmentBounds.held(pool, "agent-a", claimed));
      assertEquals(List.of("0"), now.range().lower());
      assertEquals(List.of("40"), now.range().upper());
      assertEquals(40, now.rowsPlanned());
      assertNull(await(SegmentBounds.held(pool, "agent-b", claimed)), "another agent's view: not its lease");

      pg.exec(db, "UPDATE sluice.segments SET lease_expires_at = now() - interval '1 second' WHERE seq = 0");
      assertNull(await(SegmentBounds.held(pool, "agent-a", claimed)), "the lease expired");
    } finally {
      await(pool.close());
      await(vertx.close());
    }
  }

  private static <T> T await(io.vertx.core.Future<T> f) {
    return Await.result(f, 30, TimeUnit.SECONDS);
  }
}
