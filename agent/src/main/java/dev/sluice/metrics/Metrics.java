package dev.sluice.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.util.Set;
import java.util.UUID;

/**
 * The agent's meter registry, scraped at {@code /metrics} in Prometheus text format. Sluice's own
 * meters ({@link JobMeters}) and Vert.x's (HTTP server, pools, event loops, JVM) share it, so one
 * scrape shows both. Each agent has its own registry: several agents in one JVM never mix figures.
 */
public final class Metrics {
  // JVM meters whose Prometheus names promtool's lint rejects (abbreviated units, a gauge named *_count).
  private static final Set<String> LINT_FAILURES = Set.of("jvm.compilation.time", "process.cpu.time", "system.cpu.count");
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  public Metrics() {
    registry.config().meterFilter(MeterFilter.deny(id -> LINT_FAILURES.contains(id.getName())));
    // promtool requires help text on every family: a meter registered without one gets its name.
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        if (id.getDescription() != null && !id.getDescription().isBlank()) return id;
        return new Meter.Id(id.getName(), Tags.of(id.getTags()), id.getBaseUnit(), id.getName().replace('.', ' '), id.getType());
      }
    });
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** A Vert.x instance whose own metrics (HTTP, pools, net, event bus, JVM) report to this registry. */
  public Vertx newVertx() {
    MicrometerMetricsOptions options = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setRegistryName("sluice-" + UUID.randomUUID())
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
    return Vertx.builder()
        .with(new VertxOptions().setMetricsOptions(options))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }

  /** The exposition in Prometheus text format 0.0.4 (what {@code promtool check metrics} reads). */
  public String scrape() {
    return registry.scrape();
  }

  public void close() {
    registry.close();
  }
}
