package dev.sluice.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole agent configuration, as loaded and validated by {@link ConfigLoader}. Each record declares
 * its defaults as constants next to its fields; {@code docs/config.md} repeats them. This package is a
 * leaf: it imports no other Sluice package.
 */
public record SluiceConfig(
    DatabaseConfig source,
    DatabaseConfig target,
    HttpConfig http,
    AgentConfig agent,
    List<JobConfig> jobs,
    HealthConfig health,
    BreakerConfig breaker,
    SessionLimits sessions,
    NotifyConfig notifications) {

  public Optional<JobConfig> job(String name) {
    return jobs.stream().filter(j -> j.name().equals(name)).findFirst();
  }

  /** Source and target point at the same database (same host, port and database name). */
  public boolean sameDatabase() {
    return source.sameDatabaseAs(target);
  }
}
