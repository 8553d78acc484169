package dev.sluice.cli;

import dev.sluice.testing.TestPg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The test server trusts loopback connections, so no password is ever wrong. This puts a rule for one
 * role ahead of the trust rules in {@code pg_hba.conf} (the server's own file, found with
 * {@code SHOW hba_file}) so that this role, and only it, must give its password, and reloads.
 */
final class PasswordAuth {
  private PasswordAuth() {}

  /** Returns true once the server refuses a wrong password and accepts the right one for {@code role}. */
  static synchronized boolean require(TestPg pg, String role, String password, String db) {
    Path hba = Path.of(pg.string("postgres", "SHOW hba_file"));
    String rule = "host all " + role + " 127.0.0.1/32 scram-sha-256\nhost all " + role + " ::1/128 scram-sha-256\n";
    try {
      if (!Files.isWritable(hba)) return false;
      String text = Files.readString(hba);
      if (!text.startsWith(rule)) Files.writeString(hba, rule + text);
    } catch (IOException e) {
      return false;
    }
    pg.scalar("postgres", "SELECT pg_reload_conf()::int");
    // The postmaster reloads on SIGHUP, asynchronously: wait until new connections see the rule.
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (!connects(pg, role, "not-" + password, db)) return connects(pg, role, password, db);
      Thread.onSpinWait();
    }
    return false;
  }

  private static boolean connects(TestPg pg, String role, String password, String db) {
    try (var c = DriverManager.getConnection("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + db, role, password)) {
      return true;
    } catch (SQLException e) {
      return false;
    }
  }
}
