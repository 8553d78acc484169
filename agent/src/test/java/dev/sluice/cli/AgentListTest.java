package dev.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@code sluice status}'s agents: every live one, and of the others only the most recent, so many restarts do not bury the jobs. */
class AgentListTest {
  private static JsonObject agent(String id, boolean alive, double age) {
    return new JsonObject().put("id", id).put("alive", alive).put("stoppedAt", alive ? null : "2026-12-08T04:00:00Z")
        .put("heartbeatAgeSeconds", age).put("leaseSeconds", 30.0).put("segmentsHeld", 0).put("rowsPerSecond", 0L)
        .put("ledgerWrites", 0L).put("host", "h").put("pid", 1L).put("startedAt", "2026-12-08T03:00:00Z");
  }

  @Test
  void liveAgentsFirstThenTheFiveMostRecentOthers() {
    JsonArray agents = new JsonArray();
    for (int i = 1; i <= 8; i++) agents.add(agent("gone-" + i, false, 100.0 * i)); // gone-1 heard from most recently
    agents.add(agent("live", true, 0.5));
    StringWriter w = new StringWriter();
    AgentList.print(new PrintWriter(w, true), agents, new JsonObject());
    String[] lines = w.toString().split("\n");
    assertEquals("agents: 1 alive, 8 stopped or silent (seen within the last hour)", lines[0]);
    assertTrue(lines[1].startsWith("  live alive:"), lines[1]);
    for (int i = 1; i <= 5; i++) assertTrue(lines[1 + i].startsWith("  gone-" + i + " stopped:"), Arrays.toString(lines));
    assertEquals("  ... and 3 more stopped or silent (GET /api/agents lists every one)", lines[7]);
    assertTrue(lines[8].startsWith("ledger row writes"), lines[8]);
  }
}
