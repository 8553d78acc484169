package dev.sluice.metrics;

import dev.sluice.build.BuildInfo;
import dev.sluice.config.ConfigWatcher;
import dev.sluice.resilience.CircuitBreaker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The agent's own series, beside the jobs' ({@link JobMeters}): the build it runs
 * ({@code sluice_build_info{version,commit}}, always 1), each database's circuit breaker
 * ({@code sluice_database_up{database}}, 0 while the breaker is open or half-open;
 * {@code sluice_database_breaker_state{database,state}}, 1 for the state in force) and the config's hot
 * reloads ({@code sluice_config_reloads_total{outcome="applied"|"rejected"}},
 * {@code sluice_config_last_reload_successful}). They exist from the agent's start, whether or not a
 * config file is watched (then no reload ever happens: the counters stay 0, the last reload counts as
 * successful).
 */
public final class AgentMeters {
  private AgentMeters() {}

  public static void bind(MeterRegistry registry, Supplier<CircuitBreaker.State> source, Supplier<CircuitBreaker.State> target,
      Supplier<ConfigWatcher> watcher) {
    Gauge.builder("sluice.build.info", () -> 1).description("The build this agent runs: version and git commit, as labels (always 1)")
        .tags("version", BuildInfo.CURRENT.version(), "commit", BuildInfo.CURRENT.commit()).strongReference(true).register(registry);
    database(registry, "source", source);
    database(registry, "target", target);
    FunctionCounter.builder("sluice.config.reloads", watcher, w -> w.get() == null ? 0 : w.get().reloadsApplied())
        .description("Edited config versions put in force (applied) or refused (rejected) since start")
        .tags("outcome", "applied").register(registry);
    FunctionCounter.builder("sluice.config.reloads", watcher, w -> w.get() == null ? 0 : w.get().reloadsRejected())
        .description("Edited config versions put in force (applied) or refused (rejected) since start")
        .tags("outcome", "rejected").register(registry);
    Gauge.builder("sluice.config.last.reload.successful", watcher, w -> w.get() == null || w.get().lastReloadOk() ? 1 : 0)
        .description("0 from a refused config reload until the next one is put in force").strongReference(true).register(registry);
  }

  private static void database(MeterRegistry registry, String database, Supplier<CircuitBreaker.State> state) {
    Gauge.builder("sluice.database.up", state, s -> s.get() == CircuitBreaker.State.CLOSED ? 1 : 0)
        .description("1 while the database's circuit breaker is closed (it answers); 0 while open or half-open (copying stopped)")
        .tags("database", database).strongReference(true).register(registry);
    for (CircuitBreaker.State st : CircuitBreaker.State.values()) {
      Gauge.builder("sluice.database.breaker.state", state, s -> s.get() == st ? 1 : 0)
          .description("1 for the state of the database's circuit breaker: closed, open or half_open")
          .tags("database", database, "state", st.name().toLowerCase(Locale.ROOT)).strongReference(true).register(registry);
    }
  }
}
