package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.AgentProcess;
import dev.sluice.testing.BuiltJar;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Logical capture with the real jar: a writer inserts, updates (keys too) and deletes all through
 * the copy; the agent is SIGKILLed while it reads the slot, another agent process resumes from the
 * slot, and the tables end equal. A rollback while the agent runs leaves no slot, publication,
 * changelog or trigger on the source.
 */
class LogicalModeIT {
  @BeforeAll
  static void builtJar() {
    BuiltJar.path();
  }

  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private Path config(String src, String tgt, int rate) throws Exception {
    return Files.writeString(dir.resolve("logical.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 3, "heartbeatSeconds": 1}, "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true},
           "segment": {"rows": 2000}, "batch": {"rows": 500}, "concurrency": {"max": 2},
           "pace": {"rowsPerSecond": %d},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(pg.url(src), pg.url(tgt), rate));
  }

  private long count(String db, String sql) {
    try {
      return pg.scalar(db, sql);
    } catch (IllegalStateException e) {
      return -1; // the ledger does not exist yet
    }
  }

  private static void until(AgentProcess p, String what, java.util.function.BooleanSupplier c, int seconds) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    while (!c.getAsBoolean()) {
      if (!p.alive()) throw new AssertionError(p.name() + " exited before " + what + ":\n" + p.tail());
      if (System.nanoTime() > end) throw new AssertionError(what + " not within " + seconds + " s:\n" + p.tail());
      Thread.sleep(50);
    }
  }

  @Test
  void killedWhileReadingTheSlotResumesAndEndsEqual() throws Exception {
    String src = pg.createDatabase("lmit_src");
    String tgt = pg.createDatabase("lmit_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 20000) g");
    Path cfg = config(src, tgt, 3000);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    Thread writer = new Thread(() -> Writes.random(pg, src, 25_000, stop, writes), "test-writer");
    String slotActive = "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_items' AND active";
    try (AgentProcess first = AgentProcess.start(dir, "run1", "run", "--until-done", "--config", cfg.toString())) {
      writer.start();
      until(first, "the slot read and 3 segments verified", () -> count(src, slotActive) == 1
          && count(tgt, "SELECT count(*) FROM sluice.segments WHERE state = 'verified'") >= 3, 120);
      long before = writes.get();
      until(first, "writes while the slot is read", () -> writes.get() > before + 100, 60);
      first.killHard(); // SIGKILL: the reader's confirmed position is all that survives
      assertTrue(count(tgt, "SELECT count(*) FROM sluice.segments WHERE state <> 'verified'") > 0, "killed mid-copy");
    }
    assertEquals(1, count(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_items'"),
        "the slot outlives the agent");
    long atKill = writes.get();
    try (AgentProcess second = AgentProcess.start(dir, "run2", "run", "--until-done", "--config", cfg.toString())) {
      until(second, "the slot read again", () -> count(src, slotActive) == 1, 120);
      until(second, "writes after the restart", () -> writes.get() > atKill + 300, 120);
      until(second, "in sync", () -> count(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND state = 'in_sync'") == 1, 180);
      stop.set(true);
      writer.join();
      assertEquals(0, second.awaitExit(180), second.tail());
      assertTrue(second.log().contains("job items: completed"), second.tail());
    } finally {
      stop.set(true);
      writer.join();
    }
    long n = Tables.assertSameRows(pg, src, "SELECT row(id, name, qty)::text FROM items ORDER BY id",
        tgt, "SELECT row(id, name, qty)::text FROM items ORDER BY id");
    assertTrue(n > 5_000, "rows compared: " + n);
    assertEquals("logical", pg.string(tgt, "SELECT capture_mode FROM sluice.jobs WHERE name = 'items'"));
    // The second agent took the slot over from the killed one (the next lease epoch).
    assertEquals(2, pg.scalar(tgt, "SELECT epoch FROM sluice.capture_leases WHERE job = 'items'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sluice_capture_items%'"));
    // Completed: the slot and the publication are dropped; the changelog stays until cleanup, empty.
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_items'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_publication WHERE pubname = 'sluice_items'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM sluice.changes_items"));
  }

  @Test
  void rollbackWhileTheSlotIsReadLeavesNothingOnTheSource() throws Exception {
    String src = pg.createDatabase("lmrb_src");
    String tgt = pg.createDatabase("lmrb_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
        "INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 10000) g");
    Path cfg = config(src, tgt, 2000);
    try (AgentProcess agent = AgentProcess.start(dir, "agent", "run", "--config", cfg.toString())) {
      until(agent, "the slot read and a segment verified", () -> count(src, "SELECT count(*) FROM pg_replication_slots "
          + "WHERE slot_name = 'sluice_items' AND active") == 1
          && count(tgt, "SELECT count(*) FROM sluice.segments WHERE state = 'verified'") >= 1, 120);
      pg.exec(src, "UPDATE items SET qty = qty + 1 WHERE id % 50 = 0");
      try (AgentProcess rollback = AgentProcess.start(dir, "rollback", "rollback", "--config", cfg.toString(), "--job", "items")) {
        assertEquals(0, rollback.awaitExit(120), rollback.tail());
      }
      // The running agent stops working on the job; its reader must not bring the slot back.
      Thread.sleep(3000);
      assertTrue(agent.alive(), agent.tail());
    }
    assertEquals("rolled_back", pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_items'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_publication WHERE pubname = 'sluice_items'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sluice_capture_items%'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_class WHERE relname = 'changes_items'"));
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM pg_class WHERE relname = 'items' AND relkind = 'r'"),
        "the target table Sluice created is dropped");
  }
}
