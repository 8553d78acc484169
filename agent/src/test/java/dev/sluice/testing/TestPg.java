package dev.sluice.testing;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.embedded.EmbeddedDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The PostgreSQL server the tests run against: one per test JVM. Embedded (zonky) by default; set
 * {@code SLUICE_TEST_PG} to {@code host:port} of an external server whose superuser {@code postgres}
 * is reachable without a password (e.g. Debian's cluster with trust on loopback) to use that instead.
 * Every test creates its own databases, so tests never share state.
 */
public final class TestPg {
  private static TestPg instance;
  private static final AtomicInteger seq = new AtomicInteger();

  private final String host;
  private final int port;
  private final EmbeddedDatabase embedded;

  private TestPg(String host, int port, EmbeddedDatabase embedded) {
    this.host = host;
    this.port = port;
    this.embedded = embedded;
  }

  public static synchronized TestPg get() {
    if (instance == null) {
      String ext = System.getenv("SLUICE_TEST_PG");
      if (ext != null && !ext.isBlank()) {
        String[] hp = ext.split(":");
        instance = new TestPg(hp[0], Integer.parseInt(hp[1]), null);
      } else {
        EmbeddedDatabase db = EmbeddedDatabase.start();
        Runtime.getRuntime().addShutdownHook(new Thread(db::close));
        instance = new TestPg("127.0.0.1", db.port(), db);
      }
    }
    return instance;
  }

  public int port() {
    return port;
  }

  public String host() {
    return host;
  }

  /** The embedded server, or null when running against an external one. */
  public EmbeddedDatabase embedded() {
    return embedded;
  }

  /** The server's major version (13, 14, ...): the CI's version matrix runs the suite's tests on several. */
  public int serverMajor() {
    return (int) (scalar("postgres", "SELECT current_setting('server_version_num')::int") / 10000);
  }

  /** Creates a fresh database named after {@code prefix}; returns its name. */
  public String createDatabase(String prefix) {
    String name = (prefix + "_" + ProcessHandle.current().pid() + "_" + seq.incrementAndGet()).toLowerCase();
    exec("postgres", "CREATE DATABASE " + name);
    return name;
  }

  /** A Sluice config URL for a database. */
  public String url(String db) {
    return "postgresql://postgres@" + host + ":" + port + "/" + db;
  }

  /** The server, database and user of vertx-pg-client options as Sluice's config would give them (no password, default TLS). */
  public static DatabaseConfig config(io.vertx.pgclient.PgConnectOptions o, int poolSize) {
    return new DatabaseConfig(o.getHost(), o.getPort(), o.getDatabase(), o.getUser(), null, null, DatabaseConfig.Tls.DEFAULT, poolSize);
  }

  /** The database as Sluice's config would give it (superuser, no password, TLS as configured by default). */
  public DatabaseConfig database(String db) {
    return new DatabaseConfig(host, port, db, "postgres", null, null, DatabaseConfig.Tls.DEFAULT, 1);
  }

  public Connection connect(String db) throws SQLException {
    // The fixture's sessions are not the database's users: named sluice-*, the foreground control (on by
    // default) does not slow the agents under test while assertions poll. assumeMinServerVersion makes
    // the driver send the name in its start-up packet; otherwise it runs SET application_name as its
    // first statement, and every new fixture connection is an unnamed active session for a moment.
    return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + db
        + "?user=postgres&ApplicationName=sluice-test&assumeMinServerVersion=9.0");
  }

  public void exec(String db, String... sql) {
    try (Connection c = connect(db); Statement s = c.createStatement()) {
      for (String q : sql) s.execute(q);
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public long scalar(String db, String sql) {
    try (Connection c = connect(db); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public String string(String db, String sql) {
    try (Connection c = connect(db); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public List<String> strings(String db, String sql) {
    List<String> out = new ArrayList<>();
    try (Connection c = connect(db); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      while (r.next()) out.add(r.getString(1));
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    return out;
  }
}
