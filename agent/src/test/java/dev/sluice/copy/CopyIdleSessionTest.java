package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.ledger.Segment;
import dev.sluice.plan.KeyRange;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The COPY sessions kept open between segments die with their server's restart (or a DBA's
 * {@code pg_terminate_backend}); the next segment gets a session that answers, not a dead one. Before,
 * each dead idle session failed one segment attempt (57P01 after a source restart), and enough of
 * them in a row parked a segment that nothing was wrong with.
 */
class CopyIdleSessionTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aSegmentAfterTheIdleSessionsWereEndedCopiesAtTheFirstAttempt() {
    String src = pg.createDatabase("idle_src");
    String tgt = pg.createDatabase("idle_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    try (CopyFixture f = new CopyFixture(src, tgt, """
        {"name": "idle", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 4096)) {
      Segment first = f.claim(new KeyRange(null, List.of("1001")));
      assertEquals(1000, f.copy(first, false, f.new Control()).rows());
      // Both sides' sessions are idle in the engine's pools now; the servers end them.
      String sessions = "FROM pg_stat_activity WHERE application_name LIKE 'sluice-copy-%' AND datname IN ('" + src + "', '" + tgt + "')";
      assertEquals(2, pg.scalar("postgres", "SELECT count(*) " + sessions), "one idle session a side");
      pg.exec("postgres", "SELECT pg_terminate_backend(pid) " + sessions);
      Eventually.until(Duration.ofSeconds(10), "the sessions ended", () -> pg.scalar("postgres", "SELECT count(*) " + sessions) == 0);

      Segment second = f.claim(new KeyRange(List.of("1001"), null));
      assertEquals(1000, f.copy(second, false, f.new Control()).rows(), "copied with new sessions, at the first attempt");
      assertEquals(2000, pg.scalar(tgt, "SELECT count(*) FROM items"));
    }
  }
}
