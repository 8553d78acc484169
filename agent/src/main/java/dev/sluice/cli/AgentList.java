package dev.sluice.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;

/** The agents section of {@code sluice status}: liveness, leases, rate and ledger writes of each agent. */
final class AgentList {
  /** Stopped or silent agents listed at most (the most recent first); live ones are all listed. */
  static final int MAX_GONE = 5;

  private AgentList() {}

  static void print(PrintWriter out, JsonArray agents, JsonObject rowWrites) {
    int alive = 0;
    for (int i = 0; i < agents.size(); i++) if (agents.getJsonObject(i).getBoolean("alive")) alive++;
    out.printf("agents: %d alive, %d stopped or silent (seen within the last hour)%n", alive, agents.size() - alive);
    // Every live agent; of the others the most recently heard from, so the list stays short after many restarts.
    java.util.List<JsonObject> shown = new java.util.ArrayList<>();
    for (int i = 0; i < agents.size(); i++) shown.add(agents.getJsonObject(i));
    shown.sort(java.util.Comparator.comparing((JsonObject a) -> !a.getBoolean("alive"))
        .thenComparingDouble(a -> a.getDouble("heartbeatAgeSeconds")));
    int others = 0;
    for (JsonObject a : shown) {
      if (!a.getBoolean("alive") && ++others > MAX_GONE) continue;
      String liveness = a.getBoolean("alive") ? "alive" : a.getString("stoppedAt") != null ? "stopped" : "silent";
      out.printf("  %s %s: heartbeat %.1fs ago (lease %.0fs), %d segments held, %d rows/s, %d ledger writes; %s pid %d, started %s%n",
          a.getString("id"), liveness, a.getDouble("heartbeatAgeSeconds"), a.getDouble("leaseSeconds"), a.getInteger("segmentsHeld"),
          a.getLong("rowsPerSecond"), a.getLong("ledgerWrites"), a.getString("host"), a.getLong("pid"), a.getString("startedAt"));
    }
    if (others > MAX_GONE) out.printf("  ... and %d more stopped or silent (GET /api/agents lists every one)%n", others - MAX_GONE);
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
