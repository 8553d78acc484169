package dev.sluice.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;

/** The agents section of {@code sluice status}: liveness, leases, rate and ledger writes of each agent. */
final class AgentList {
  private AgentList() {}

  static void print(PrintWriter out, JsonArray agents, JsonObject rowWrites) {
    int alive = 0;
    for (int i = 0; i < agents.size(); i++) if (agents.getJsonObject(i).getBoolean("alive")) alive++;
    out.printf("agents: %d alive, %d stopped or silent (seen within the last hour)%n", alive, agents.size() - alive);
    for (int i = 0; i < agents.size(); i++) {
      JsonObject a = agents.getJsonObject(i);
      String liveness = a.getBoolean("alive") ? "alive" : a.getString("stoppedAt") != null ? "stopped" : "silent";
      out.printf("  %s %s: heartbeat %.1fs ago (lease %.0fs), %d segments held, %d rows/s, %d ledger writes; %s pid %d, started %s%n",
          a.getString("id"), liveness, a.getDouble("heartbeatAgeSeconds"), a.getDouble("leaseSeconds"), a.getInteger("segmentsHeld"),
          a.getLong("rowsPerSecond"), a.getLong("ledgerWrites"), a.getString("host"), a.getLong("pid"), a.getString("startedAt"));
    }
    StringBuilder sb = new StringBuilder();
    for (String table : rowWrites.fieldNames()) {
      JsonObject w = rowWrites.getJsonObject(table);
      long n = w.getLong("inserts") + w.getLong("updates") + w.getLong("deletes");
      if (n == 0) continue;
      if (sb.length() > 0) sb.append(", ");
      sb.append(table).append(' ').append(n);
    }
    out.printf("ledger row writes, all agents (PostgreSQL statistics): %s%n", sb.length() == 0 ? "none" : sb);
  }
}
