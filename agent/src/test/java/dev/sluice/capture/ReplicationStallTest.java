package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.db.Databases;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Only the WAL reader's replication connection freezes (a firewall that dropped that one flow), its
 * capture session still answers: the reader, on an idle table, stays healthy for several stall
 * timeouts while the stream is quiet (its heartbeats come back), then, frozen, finds its stream
 * stalled from what the server says of its sender (it read the heartbeat, whose echo never came).
 */
class ReplicationStallTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aQuietStreamLivesAndAFrozenOneIsFoundByTheServersSender() throws Exception {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("repl_stall");
    String slot = LogicalSlot.name("items");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY)", "CREATE PUBLICATION " + slot + " FOR TABLE items",
        "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    AtomicReference<Throwable> failed = new AtomicReference<>();
    WalReader.Settings settings = new WalReader.Settings(1_000, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(10),
        Duration.ofSeconds(1), Duration.ofSeconds(1));
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      DatabaseConfig su = pg.database(db);
      DatabaseConfig via = new DatabaseConfig("127.0.0.1", proxy.port(), db, su.user(), null, null, su.tls(), 1);
      WalReader reader = new WalReader(Databases.settings(via, "sluice-wal"), "items", new WalKeys("public", "items", List.of("id")),
          settings, new WalReader.Listener() {
            @Override
            public void truncated(long lsn) {}

            @Override
            public void failed(Throwable error) {
              failed.compareAndSet(null, error);
            }
          }, System::nanoTime);
      reader.start();
      try {
        Eventually.until(Duration.ofSeconds(30), "the stream open", reader::streaming);
        assertEquals(2, proxy.connections(), "the replication connection first, then the capture session");
        Eventually.pause(4_000); // four stall timeouts of an idle table: heartbeats every second, each echoed
        assertEquals(null, failed.get(), "a quiet, healthy stream is not stalled");
        proxy.freeze(0);
        long frozenAt = System.nanoTime();
        Throwable error = Eventually.value(Duration.ofSeconds(15), "the reader failed", failed::get);
        double seconds = (System.nanoTime() - frozenAt) / 1e9;
        assertInstanceOf(DatabaseStalled.class, error, String.valueOf(error));
        String m = error.getMessage();
        assertTrue(m.startsWith("the source's replication stream stalled: nothing received for ")
            && m.endsWith(" (the server sent the heartbeat a timeout ago, it never arrived) (sessions.stallTimeoutMs 1000); reconnecting"), m);
        assertTrue(seconds < 8, "found " + seconds + " s after the freeze: " + m);
      } finally {
        proxy.thaw();
        reader.stop(Duration.ofSeconds(10));
      }
    }
    Eventually.until(Duration.ofSeconds(30), "the slot released", () -> pg.scalar(db,
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND active") == 0);
    pg.exec(db, "SELECT pg_drop_replication_slot('" + slot + "')");
  }
}
