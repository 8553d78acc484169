package dev.sluice.capture;

import dev.sluice.db.ConnectionSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Opens PostgreSQL JDBC (pgjdbc) connections to the source for logical capture: the replication
 * stream (vertx-pg-client has no replication protocol) and the session that records the keys read
 * from it. Built from the agent's {@link ConnectionSettings} for the source, like every other session:
 * the same server, user, password (a password file or {@code ~/.pgpass} read again at each connection,
 * so a rotated secret is picked up when the reader reconnects), TLS ({@code sslmode}, root
 * certificate, client certificate and key, through the same files) and session settings (UTC, ISO
 * dates, hex bytea), so keys read from the WAL print as the agent's pools print them. Every call
 * blocks: only for worker threads of capture's own.
 */
public final class SourceJdbc {
  private SourceJdbc() {}

  /** A plain session (autocommit off), named {@code applicationName}, with Sluice's session settings. */
  public static Connection session(ConnectionSettings settings, String applicationName) throws SQLException {
    Connection c = settings.with("application_name", applicationName).openJdbc();
    c.setAutoCommit(false);
    return c;
  }

  /** A logical replication connection to the source database ({@code replication=database}). */
  public static Connection replication(ConnectionSettings settings, String applicationName) throws SQLException {
    ConnectionSettings named = settings.with("application_name", applicationName);
    // pgjdbc sends the JVM's time zone at start-up: openJdbc sets UTC, so the stream prints timestamptz keys in UTC.
    return named.openJdbc(properties(named));
  }

  /**
   * The settings' JDBC properties (password resolved now, TLS files, the connect timeout and TCP
   * keepalive every session has) with the replication ones.
   */
  static Properties properties(ConnectionSettings settings) {
    Properties p = settings.jdbcProperties();
    p.setProperty("replication", "database");
    p.setProperty("preferQueryMode", "simple");
    return p;
  }
}
