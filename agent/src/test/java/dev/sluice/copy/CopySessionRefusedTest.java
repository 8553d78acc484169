package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import dev.sluice.testing.TestPg;
import io.vertx.pgclient.PgException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A segment whose COPY session cannot be opened (its server restarting, refusing connections) fails
 * at once, on either side: the other side's thread waits for this one (the target for chunks, the
 * source for room in the window), so the failure must end the pipe. Before, the pipe waited forever
 * and the job with it (a source restart mid-copy stalled the agent, and its stop timed out).
 */
class CopySessionRefusedTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aSourceThatRefusesTheSessionFailsTheSegment() throws Exception {
    Throwable e = copyWhileRefusing(true);
    assertInstanceOf(SegmentCopier.SourceFailure.class, e, String.valueOf(e));
    assertEquals("55000", ((PgException) e.getCause()).getSqlState(), e.getCause().getMessage());
  }

  @Test
  void aTargetThatRefusesTheSessionFailsTheSegment() throws Exception {
    Throwable e = copyWhileRefusing(false);
    assertInstanceOf(PgException.class, e, String.valueOf(e));
    assertEquals("55000", ((PgException) e).getSqlState(), e.getMessage());
  }

  /** Copies one segment while the source's (or the target's) database accepts no new sessions; returns the copy's failure. */
  private Throwable copyWhileRefusing(boolean sourceSide) throws Exception {
    String src = pg.createDatabase("refused_src");
    String tgt = pg.createDatabase("refused_tgt");
    // More rows than the window (2 KB) holds: a source waiting for a target that never opens fills it.
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    String refusing = sourceSide ? src : tgt;
    try (CopyFixture f = new CopyFixture(src, tgt, """
        {"name": "refused", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 2048)) {
      Segment seg = f.claim(KeyRange.ALL);
      // The fixture's pools keep their open sessions; only the COPY's new session is refused.
      pg.exec("postgres", "ALTER DATABASE " + refusing + " ALLOW_CONNECTIONS false");
      ExecutionException failed;
      try {
        failed = assertThrows(ExecutionException.class,
            () -> f.engine.copy(seg, false, f.new Control()).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS),
            "the copy fails within 20 s instead of waiting for a session that never opens");
      } finally {
        pg.exec("postgres", "ALTER DATABASE " + refusing + " ALLOW_CONNECTIONS true");
      }
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM items"), "nothing committed");
      return failed.getCause();
    }
  }
}
