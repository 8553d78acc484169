package dev.sluice.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two agents copying one job on one server, the foreground control on and no user anywhere: neither
 * takes the other's sessions for foreground load (issue 16: several agents slowed each other to 2-3%).
 * Sampled for as long as the copy runs, and shown to have sampled while both agents held segments.
 */
class FleetNotForegroundTest {
  private final TestPg pg = TestPg.get();

  private static double foreground(Agent agent) {
    JsonArray snapshot = agent.guards().health().snapshot();
    for (int i = 0; i < snapshot.size(); i++) {
      JsonObject j = snapshot.getJsonObject(i);
      if ("foreground".equals(j.getString("sensor")) && j.getValue("value") instanceof Number n) return n.doubleValue();
    }
    return Double.NaN;
  }

  @Test
  void agentsOfOneFleetAreNotEachOthersForeground() throws Exception {
    String src = pg.createDatabase("fleetfg_src");
    String tgt = pg.createDatabase("fleetfg_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 30000) g");
    // Paced so that the copy lasts several seconds with both agents in it; the sensor sampled every 50 ms.
    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 1},
         "health": {"foreground": {"intervalMs": 50, "quietMs": 2000}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 1500}, "batch": {"rows": 250}, "concurrency": {"max": 2},
                   "pace": {"rowsPerSecond": 4000}}]}""".formatted(pg.url(src), pg.url(tgt));
    Agent a = Agents.start(config);
    Agent b = Agents.start(config);
    try {
      double seen = 0;
      String who = null;
      int samples = 0;
      boolean together = false;
      List<String> reasons = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (pg.scalar(tgt, "SELECT count(*) FROM sluice.segments WHERE job = 'items' AND state <> 'verified'") > 0) {
        assertTrue(System.nanoTime() < deadline, "the copy did not finish within 2 minutes");
        for (Agent agent : List.of(a, b)) {
          double fg = foreground(agent);
          if (!Double.isNaN(fg)) {
            if (fg > 0 && who == null) who = pg.string(tgt, "SELECT string_agg(concat_ws(' ', pid, usename, datname, application_name, "
                + "backend_type, state, left(query, 60)), ' | ') FROM pg_stat_activity WHERE coalesce(application_name, '') NOT LIKE 'sluice-%'");
            seen = Math.max(seen, fg);
            samples++;
          }
          String why = agent.migrators().get("items").pace().factorReason();
          if (why != null && why.startsWith("foreground") && reasons.size() < 5) reasons.add(why);
        }
        together |= pg.scalar(tgt, "SELECT count(DISTINCT owner) FROM sluice.segments WHERE job = 'items' AND state = 'copying'") >= 2;
        Thread.sleep(50);
      }
      assertTrue(together, "both agents copied at the same time while the sensors were read");
      assertTrue(samples >= 20, "the foreground sensors were read during the copy (" + samples + " readings)");
      assertEquals(0.0, seen, "another agent's sessions are not foreground; others then: " + who);
      assertEquals(List.of(), reasons, "no agent slowed down for foreground");
      // The copy was sampled: the final pass need not go at the job's pace (30,000 rows, 7 s).
      for (Agent agent : List.of(a, b)) agent.migrators().get("items").setRate(null, 250);
      Map<String, JobState> done = Await.result(a.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, done.get("items"));
      assertEquals(30000, pg.scalar(tgt, "SELECT count(*) FROM public.items"));
    } finally {
      Await.result(b.stop(), 1, TimeUnit.MINUTES);
      Await.result(a.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
