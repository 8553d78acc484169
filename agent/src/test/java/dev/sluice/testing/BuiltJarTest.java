package dev.sluice.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class BuiltJarTest {
  @Test
  void withoutTheJarACiRunFailsAndALocalRunSkips(@TempDir Path dir) throws Exception {
    AssertionFailedError failed = assertThrows(AssertionFailedError.class, () -> BuiltJar.check(null, true));
    assertTrue(failed.getMessage().contains("sluice.jar") && failed.getMessage().contains("CI=true"), failed.getMessage());
    TestAbortedException skipped = assertThrows(TestAbortedException.class, () -> BuiltJar.check(null, false));
    assertTrue(skipped.getMessage().contains("failsafe"), skipped.getMessage());

    // A name that is not the built jar fails either way: a stale path must not pass.
    String missing = dir.resolve("sluice.jar").toString();
    assertThrows(AssertionFailedError.class, () -> BuiltJar.check(missing, false));
    assertThrows(AssertionFailedError.class, () -> BuiltJar.check(missing, true));

    Path jar = Files.writeString(dir.resolve("built.jar"), "PK");
    assertEquals(jar.toString(), BuiltJar.check(jar.toString(), true));
    assertEquals(jar.toString(), BuiltJar.check(jar.toString(), false));
  }
}
