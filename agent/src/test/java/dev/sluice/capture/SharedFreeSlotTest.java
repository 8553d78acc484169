package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * An agent starting two jobs in {@code capture.mode: auto} with one free replication slot on the source: one job takes
 * the slot (logical), the other gets the trigger, and both run. Before, each job asked the source on its own at the same
 * time, both saw the free slot and chose logical, and the second's slot creation stopped the agent at its start
 * ({@code 53400 all replication slots are in use}) with the first's slot left unread, every restart the same
 * (the modes were recorded). Found by an audit of issue 15.
 */
class SharedFreeSlotTest {
  private final TestPg pg = TestPg.get();

  @Test
  void twoAutoJobsAndOneFreeSlotBothRun() throws Exception {
    Assumptions.assumeTrue("logical".equals(pg.string("postgres", "SHOW wal_level")), "the test server has wal_level=logical");
    String src = pg.createDatabase("sfs_src");
    String tgt = pg.createDatabase("sfs_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'n' FROM generate_series(1, 2000) g");
    int fill = (int) pg.scalar(src, "SELECT current_setting('max_replication_slots')::int - count(*) FROM pg_replication_slots") - 1;
    for (int i = 0; i < fill; i++) pg.exec(src, "SELECT pg_create_physical_replication_slot('sfs_fill_" + i + "')");
    Agent agent = null;
    try {
      agent = Agents.start("""
          {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false}, "health": {"foreground": {"enabled": false}},
           "jobs": [{"name": "sfs_first", "source": {"table": "public.items", "key": ["id"]},
                     "target": {"table": "public.first", "create": true}, "capture": {"mode": "auto"}},
                    {"name": "sfs_second", "source": {"table": "public.items", "key": ["id"]},
                     "target": {"table": "public.second", "create": true}, "capture": {"mode": "auto"}}]}"""
          .formatted(pg.url(src), pg.url(tgt)));
      Eventually.until(Duration.ofSeconds(60), "both jobs copied and in sync", () -> pg.scalar(tgt,
          "SELECT count(*) FROM sluice.jobs WHERE state = 'in_sync'") == 2);
      List<String> modes = pg.strings(tgt, "SELECT capture_mode FROM sluice.jobs ORDER BY capture_mode");
      assertEquals(List.of("logical", "trigger"), modes, "one job took the free slot, the other the trigger");
      assertEquals(1, pg.scalar(src, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'sluice_sfs_%'"));
      assertEquals(2000, pg.scalar(tgt, "SELECT count(*) FROM first"));
      assertEquals(2000, pg.scalar(tgt, "SELECT count(*) FROM second"));
    } finally {
      if (agent != null) Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      for (int i = 0; i < fill; i++) pg.exec(src, "SELECT pg_drop_replication_slot('sfs_fill_" + i + "')");
      // The jobs' slots once their readers let go (the other tests need the server's slots back).
      Eventually.until(Duration.ofSeconds(30), "the jobs' slots released", () -> pg.scalar(src,
          "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'sluice_sfs_%' AND active") == 0);
      pg.exec(src, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'sluice_sfs_%'");
    }
  }
}
