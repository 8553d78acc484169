package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.db.ConnectionSettings;
import dev.sluice.db.Databases;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.replication.PGReplicationStream;

/**
 * What {@link StreamWatch} asks the server, against the test server: the slot's sender position is
 * null without a reader, and once the stream carried a heartbeat the sender is past the heartbeat's
 * record (so a sender past it whose echo never arrived means a stalled stream, not a busy one), and a
 * sender caught up does not count as working; a role without {@code pg_read_all_stats} sees the
 * sender but not its position.
 */
class SenderPositionTest {
  private final TestPg pg = TestPg.get();

  @Test
  void theSenderIsPastAHeartbeatOnceItsEchoArrived() throws Exception {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String db = pg.createDatabase("sender_pos");
    String slot = LogicalSlot.name("sp");
    pg.exec(db, "CREATE TABLE items (id bigint PRIMARY KEY)", "CREATE PUBLICATION " + slot + " FOR TABLE items",
        "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    ConnectionSettings cs = Databases.settings(pg.database(db), "sluice-wal");
    try (ChangelogWriter writer = new ChangelogWriter(SourceJdbc.session(cs, "sluice-capture", 10), "sp")) {
      assertNull(writer.sender(slot), "no sender holds the slot");
      try (Connection repl = SourceJdbc.replication(cs, "sluice-wal", 10)) {
        PGReplicationStream s = repl.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
            .withSlotName(slot).withSlotOption("proto_version", 1).withSlotOption("publication_names", slot)
            .withSlotOption("messages", true).start();
        long heartbeat = writer.heartbeat();
        assertTrue(heartbeat > 0, "the heartbeat's position: " + heartbeat);
        ByteBuffer echo = Eventually.value(Duration.ofSeconds(10), "the heartbeat's echo", () -> read(s));
        assertNotNull(echo);
        // pg_logical_emit_message answers the end of the message's record; the sender's position is the end of the last record it read.
        Eventually.until(Duration.ofSeconds(10), "the sender past the heartbeat " + heartbeat + " (now " + sent(writer, slot) + ")",
            () -> sent(writer, slot) >= heartbeat);
        Eventually.until(Duration.ofSeconds(10), "the sender idle once caught up", () -> !senderOf(writer, slot).working());
        // A role that is neither superuser nor in pg_read_all_stats sees the slot's sender, not its position.
        pg.exec(db, "DO $$ BEGIN CREATE ROLE sluice_sp_plain LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        DatabaseConfig su = pg.database(db);
        DatabaseConfig plain = new DatabaseConfig(su.host(), su.port(), db, "sluice_sp_plain", null, null, su.tls(), 1);
        try (ChangelogWriter other = new ChangelogWriter(SourceJdbc.session(Databases.settings(plain, "sluice-capture"), "sluice-capture", 10),
            "sp")) {
          ChangelogWriter.Sender seen = other.sender(slot);
          assertNotNull(seen, "the slot has a sender");
          assertNull(seen.sentLsn(), "its position is hidden from this role");
        }
        s.close();
      }
      Eventually.until(Duration.ofSeconds(10), "no sender once the stream closed", () -> sentOrNull(writer, slot) == null);
    } finally {
      pg.exec(db, "SELECT pg_drop_replication_slot('" + slot + "')");
      pg.exec(db, "DROP ROLE IF EXISTS sluice_sp_plain");
    }
  }

  private static ByteBuffer read(PGReplicationStream s) {
    try {
      return s.readPending();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ChangelogWriter.Sender senderOf(ChangelogWriter w, String slot) {
    try {
      return w.sender(slot);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long sent(ChangelogWriter w, String slot) {
    Long v = sentOrNull(w, slot);
    return v == null ? -1 : v;
  }

  private static Long sentOrNull(ChangelogWriter w, String slot) {
    try {
      ChangelogWriter.Sender sender = w.sender(slot);
      return sender == null ? null : sender.sentLsn();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
