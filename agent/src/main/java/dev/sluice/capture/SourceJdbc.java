package dev.sluice.capture;

import io.vertx.pgclient.PgConnectOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Properties;

/**
 * Opens PostgreSQL JDBC (pgjdbc) connections to the source for logical capture: the replication
 * stream (vertx-pg-client has no replication protocol) and the session that records the keys read
 * from it. Built from the same connection options as the agent's pools, so the config's URL, user,
 * password and sslmode mean the same thing. Every call blocks: only for worker threads of capture's own.
 */
public final class SourceJdbc {
  private SourceJdbc() {}

  /** A plain session (autocommit off), named {@code applicationName}, with Sluice's session settings. */
  public static Connection session(PgConnectOptions o, String applicationName) throws SQLException {
    Connection c = DriverManager.getConnection(url(o), properties(o, applicationName, false));
    c.setAutoCommit(false);
    return c;
  }

  /** A logical replication connection to the source database ({@code replication=database}). */
  public static Connection replication(PgConnectOptions o, String applicationName) throws SQLException {
    return DriverManager.getConnection(url(o), properties(o, applicationName, true));
  }

  static String url(PgConnectOptions o) {
    String host = o.getHost().contains(":") ? "[" + o.getHost() + "]" : o.getHost();
    return "jdbc:postgresql://" + host + ":" + o.getPort() + "/" + o.getDatabase();
  }

  static Properties properties(PgConnectOptions o, String applicationName, boolean replication) {
    Properties p = new Properties();
    p.setProperty("user", o.getUser());
    if (o.getPassword() != null) p.setProperty("password", o.getPassword());
    p.setProperty("ApplicationName", applicationName);
    if (o.getSslMode() != null) p.setProperty("sslmode", o.getSslMode().name().toLowerCase(Locale.ROOT).replace('_', '-'));
    // Keys are read as text: print them as the agent's pools do (UTC, ISO dates, shortest exact floats).
    p.setProperty("options", "-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=1 -c bytea_output=hex");
    p.setProperty("connectTimeout", "30");
    p.setProperty("tcpKeepAlive", "true");
    if (replication) {
      p.setProperty("replication", "database");
      p.setProperty("assumeMinServerVersion", "10");
      p.setProperty("preferQueryMode", "simple");
    }
    return p;
  }
}
