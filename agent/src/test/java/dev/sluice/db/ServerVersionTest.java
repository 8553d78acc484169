package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.testing.TestPg;
import org.junit.jupiter.api.Test;

/**
 * The server the tests run against is the version the build asked for ({@code -Dpg.binaries.version},
 * the CI's version matrix), so a matrix run proves what it claims. Prints it for the log.
 */
class ServerVersionTest {
  @Test
  void theTestServerIsTheRequestedVersion() {
    TestPg pg = TestPg.get();
    String version = pg.string("postgres", "SHOW server_version");
    System.out.println("PostgreSQL under test: " + version);
    String wanted = System.getProperty("pg.binaries.version");
    if (wanted == null || pg.embedded() == null) return; // an external server (SLUICE_TEST_PG) is what it is
    assertEquals(wanted.substring(0, wanted.indexOf('.')), version.substring(0, version.indexOf('.')),
        "the embedded server's major version");
  }
}
