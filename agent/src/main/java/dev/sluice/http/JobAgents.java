package dev.sluice.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The agents working on one job, cut from the ledger's agent list for {@code GET /api/jobs}. */
final class JobAgents {
  private JobAgents() {}

  static JsonArray of(String job, JsonArray agents) {
    JsonArray out = new JsonArray();
    for (int i = 0; i < agents.size(); i++) {
      JsonObject a = agents.getJsonObject(i);
      JsonArray jobs = a.getJsonArray("jobs");
      for (int k = 0; k < jobs.size(); k++) {
        JsonObject j = jobs.getJsonObject(k);
        if (!job.equals(j.getString("job"))) continue;
        out.add(new JsonObject().put("id", a.getString("id")).put("host", a.getString("host"))
            .put("alive", a.getBoolean("alive")).put("heartbeatAt", a.getString("heartbeatAt"))
            .put("heartbeatAgeSeconds", a.getDouble("heartbeatAgeSeconds"))
            .put("segmentsHeld", j.getInteger("segmentsHeld")).put("rowsPerSecond", Math.round(j.getDouble("rowsPerSecond", 0.0)))
            .put("rowsWritten", j.getLong("rowsWritten")).put("rateShare", j.getValue("rateShare")));
      }
    }
    return out;
  }
}
