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
    return session(settings, applicationName, 0);
  }

  /**
   * The same, where a read that waits {@code socketTimeoutSeconds} fails (0: never): a backstop for a
   * source that stops answering before the reader's {@link StreamWatch} can abort the session (while it opens).
   */
  public static Connection session(ConnectionSettings settings, String applicationName, int socketTimeoutSeconds) throws SQLException {
    ConnectionSettings named = settings.with("application_name", applicationName);
    Properties p = named.jdbcProperties();
    ConnectionSettings.readTimeout(p, socketTimeoutSeconds);
    Connection c = named.openJdbc(p);
    c.setAutoCommit(false);
    return c;
  }

  /** A logical replication connection to the source database ({@code replication=database}). */
  public static Connection replication(ConnectionSettings settings, String applicationName) throws SQLException {
    return replication(settings, applicationName, 0);
  }

  /**
   * The same with a socket timeout (0: none). pgjdbc reads a replication stream without blocking
   * ({@code readPending}), so only the blocking reads (opening, starting and closing the stream) can reach it.
   */
  public static Connection replication(ConnectionSettings settings, String applicationName, int socketTimeoutSeconds) throws SQLException {
    ConnectionSettings named = settings.with("application_name", applicationName);
    Properties p = properties(named);
    ConnectionSettings.readTimeout(p, socketTimeoutSeconds);
    // pgjdbc sends the JVM's time zone at start-up: openJdbc sets UTC, so the stream prints timestamptz keys in UTC.
    return named.openJdbc(p);
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
