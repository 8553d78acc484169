package dev.sluice.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;

/**
 * The jar the process-level tests run. Failsafe runs them after {@code package} and names the jar in
 * the system property {@code sluice.jar}; a run without it (surefire given a {@code -Dtest} pattern
 * that matches every class) skips them instead of running a stale jar or none: failsafe runs them.
 */
public final class BuiltJar {
  private BuiltJar() {}

  public static String path() {
    String jar = System.getProperty("sluice.jar");
    assumeTrue(jar != null, "process-level test: run by failsafe after package (system property sluice.jar)");
    assertTrue(new File(jar).isFile(), "system property sluice.jar must name the built jar: " + jar);
    return jar;
  }
}
