package dev.sluice.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.resilience.CircuitBreaker;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The breakers' gauges follow the breaker: up only while closed, one state series at 1. */
class AgentMetersTest {
  @Test
  void databaseUpAndBreakerStateFollowTheBreaker() {
    MeterRegistry registry = new SimpleMeterRegistry();
    AtomicReference<CircuitBreaker.State> source = new AtomicReference<>(CircuitBreaker.State.CLOSED);
    AgentMeters.bind(registry, source::get, () -> CircuitBreaker.State.CLOSED, () -> null);
    for (CircuitBreaker.State s : CircuitBreaker.State.values()) {
      source.set(s);
      assertEquals(s == CircuitBreaker.State.CLOSED ? 1.0 : 0.0, up(registry, "source"), s.name());
      assertEquals(1.0, up(registry, "target"));
      for (String state : new String[] {"closed", "open", "half_open"}) {
        double v = registry.get("sluice.database.breaker.state").tags("database", "source", "state", state).gauge().value();
        assertEquals(state.equals(s.name().toLowerCase()) ? 1.0 : 0.0, v, s + " " + state);
      }
    }
    // No config file watched: nothing reloaded, nothing refused, the last reload counts as successful.
    assertEquals(0.0, registry.get("sluice.config.reloads").tag("outcome", "rejected").functionCounter().count());
    assertEquals(1.0, registry.get("sluice.config.last.reload.successful").gauge().value());
    assertEquals(1.0, registry.get("sluice.build.info").gauge().value());
  }

  private static double up(MeterRegistry registry, String database) {
    return registry.get("sluice.database.up").tag("database", database).gauge().value();
  }
}
