package dev.sluice.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole agent configuration, as loaded and validated by {@link ConfigLoader}. Defaults live in
 * the loader next to the field they belong to, and in {@code docs/config.md}.
 */
public record SluiceConfig(
    DatabaseConfig source,
    DatabaseConfig target,
    HttpConfig http,
    AgentConfig agent,
    List<JobConfig> jobs,
    HealthConfig health,
    BreakerConfig breaker,
    SessionLimits sessions) {

  public Optional<JobConfig> job(String name) {
    return jobs.stream().filter(j -> j.name().equals(name)).findFirst();
  }

  /** Source and target point at the same database (same host, port and database name). */
  public boolean sameDatabase() {
    return source.sameDatabaseAs(target);
  }
}
