package dev.sluice.testing;

import dev.sluice.agent.Agent;
import dev.sluice.config.ConfigLoader;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an agent in the test JVM. */
public final class Agents {
  private Agents() {}

  /** Starts an agent for a config, waits until every job is finished, stops it; returns job states. */
  public static Map<String, JobState> runUntilDone(String configJson) {
    Agent agent = new Agent(ConfigLoader.parse(configJson));
    try {
      Await.result(agent.start(), 2, TimeUnit.MINUTES);
      return Await.result(agent.untilDone(), 5, TimeUnit.MINUTES);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  /** Starts an agent (HTTP on a free port unless the config says otherwise); the caller stops it. */
  public static Agent start(String configJson) {
    Agent agent = new Agent(ConfigLoader.parse(configJson));
    Await.result(agent.start(), 2, TimeUnit.MINUTES);
    return agent;
  }
}
