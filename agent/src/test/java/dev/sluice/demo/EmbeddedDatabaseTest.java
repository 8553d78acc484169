package dev.sluice.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.TestPg;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The embedded server of the tests and the demo decodes its write-ahead log (capture.mode logical). */
class EmbeddedDatabaseTest {
  private final TestPg pg = TestPg.get();

  @Test
  void runsWithLogicalDecodingAndRoomForSlots() {
    Assumptions.assumeTrue(pg.embedded() != null, "an external SLUICE_TEST_PG server has its own settings");
    assertEquals("logical", pg.string("postgres", "SHOW wal_level"));
    assertTrue(pg.scalar("postgres", "SELECT current_setting('max_replication_slots')::int") >= 20);
    assertTrue(pg.scalar("postgres", "SELECT current_setting('max_wal_senders')::int") >= 20);
    // A pgoutput slot can be created and dropped: what logical capture needs.
    String db = pg.createDatabase("walcheck");
    pg.exec(db, "SELECT pg_create_logical_replication_slot('sluice_walcheck', 'pgoutput')");
    assertEquals(1, pg.scalar(db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_walcheck'"));
    pg.exec(db, "SELECT pg_drop_replication_slot('sluice_walcheck')");
    pg.exec("postgres", "DROP DATABASE " + db);
  }
}
