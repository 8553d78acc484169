package dev.sluice.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;

/**
 * The jar the process-level tests (*IT) run. Failsafe runs them after {@code package} and names the
 * jar in the system property {@code sluice.jar} (agent/pom.xml); surefire leaves them out by their
 * tag, {@code process}. Run any other way (an IDE, a surefire run told to include the tag) there is
 * no jar to trust: under
 * {@code CI=true} the test fails, since a process-level test that cannot run must not pass as
 * skipped; on a developer's machine without CI it is skipped, and failsafe runs it
 * ({@code mvn verify}, or {@code -Dit.test=NameIT}).
 */
public final class BuiltJar {
  private BuiltJar() {}

  public static String path() {
    return check(System.getProperty("sluice.jar"), "true".equals(System.getenv("CI")));
  }

  /** {@code jar}: the system property's value (null: absent); {@code ci}: whether this is a CI run. */
  static String check(String jar, boolean ci) {
    String why = "process-level test: run by failsafe after package, which passes the built jar as the system "
        + "property sluice.jar (mvn verify, or -Dit.test=NameIT)";
    if (jar == null) {
      if (ci) fail(why + "; with CI=true it fails instead of being skipped");
      assumeTrue(false, why);
    }
    assertTrue(new File(jar).isFile(), "system property sluice.jar must name the built jar: " + jar);
    return jar;
  }
}
