package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.db.Databases;
import dev.sluice.db.JdbcTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL reader's replication connection gets the source's connection settings like every other
 * session: the password from the password file (read at each connection), TLS with the root
 * certificate and the client certificate and key, the session settings, and the replication ones.
 */
class SourceJdbcTest {
  @TempDir
  Path dir;

  @Test
  void theReplicationConnectionHasTheSourcesCredentialsTlsAndSessionSettings() throws Exception {
    Path secret = dir.resolve("pw");
    Files.writeString(secret, "first secret\n");
    DatabaseConfig db = new DatabaseConfig("db.example", 5433, "shop", "capture_role", null, secret,
        new DatabaseConfig.Tls(DatabaseConfig.SslMode.VERIFY_FULL, "/etc/sluice/ca.pem", "/etc/sluice/client.pem", "/etc/sluice/client.key"), 2);
    Properties p = SourceJdbc.properties(Databases.settings(db, "sluice-wal").with("application_name", "sluice-wal"));
    assertEquals("capture_role", p.getProperty("user"));
    assertEquals("first secret", p.getProperty("password"));
    assertEquals("verify-full", p.getProperty("sslmode"));
    assertEquals(JdbcTls.class.getName(), p.getProperty("sslfactory"));
    assertEquals("/etc/sluice/ca.pem", p.getProperty("sslrootcert"));
    assertEquals("/etc/sluice/client.pem", p.getProperty("sslcert"));
    assertEquals("/etc/sluice/client.key", p.getProperty("sslkey"));
    assertEquals("sluice-wal", p.getProperty("ApplicationName"));
    assertEquals("database", p.getProperty("replication"));
    assertEquals("simple", p.getProperty("preferQueryMode"));
    // Common to every JDBC session (ConnectionSettings), not only this one: a frozen host cannot hang the connect.
    assertEquals("30", p.getProperty("connectTimeout"));
    assertEquals("true", p.getProperty("tcpKeepAlive"));
    Properties plain = Databases.settings(db, "sluice-copy-source").jdbcProperties();
    assertEquals("30", plain.getProperty("connectTimeout"));
    assertEquals("true", plain.getProperty("tcpKeepAlive"));
    assertEquals(null, plain.getProperty("replication"));
    assertTrue(p.getProperty("options").contains("-c bytea_output=hex") && p.getProperty("options").contains("-c IntervalStyle=postgres"),
        p.getProperty("options"));
    // A rotated secret is read at the reader's next connection.
    Files.writeString(secret, "second secret\n");
    assertEquals("second secret", SourceJdbc.properties(Databases.settings(db, "sluice-wal")).getProperty("password"));
  }
}
