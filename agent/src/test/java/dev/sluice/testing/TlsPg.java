package dev.sluice.testing;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.embedded.EmbeddedDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A second PostgreSQL server, serving TLS with {@link TestCerts}, for the tests of how Sluice connects:
 * role {@code sluice_tls} (password {@link #TLS_PASSWORD}) only over TLS, role {@code sluice_cert} (a
 * superuser) only with a client certificate, members of {@code password_login} (such as {@code sluice_pw})
 * with a password over any transport; the superuser {@code postgres} is trusted on loopback for the fixtures. It runs with
 * {@code wal_level=logical}: the pg_hba.conf lines cover logical replication connections too (their database is the
 * one named, as for any session). One per test JVM, started on first use.
 */
public final class TlsPg {
  public static final String TLS_PASSWORD = "tls p@ss:w/rd#1";
  private static TlsPg instance;
  private static final java.util.concurrent.atomic.AtomicInteger SEQ = new java.util.concurrent.atomic.AtomicInteger();

  public final TestCerts certs;
  private final EmbeddedPostgres pg;

  private TlsPg(TestCerts certs, EmbeddedPostgres pg) {
    this.certs = certs;
    this.pg = pg;
  }

  public static synchronized TlsPg get() {
    if (instance != null) return instance;
    TestCerts certs = TestCerts.create();
    try {
      Path hba = certs.dir().resolve("pg_hba.conf");
      Files.writeString(hba, String.join("\n",
          "hostnossl all sluice_tls,sluice_cert all reject",
          "hostssl all sluice_tls all scram-sha-256",
          "hostssl all sluice_cert all cert",
          "host all +password_login all scram-sha-256",
          "host all all 127.0.0.1/32 trust",
          "host all all ::1/128 trust",
          "local all all trust", ""));
      Path data = Files.createTempDirectory("sluice-tlspg-");
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setDataDirectory(data)
          .setCleanDataDirectory(true)
          .setPort(EmbeddedDatabase.freePort())
          .setServerConfig("ssl", "on")
          .setServerConfig("ssl_cert_file", certs.serverCert().toString())
          .setServerConfig("ssl_key_file", certs.serverKey().toString())
          .setServerConfig("ssl_ca_file", certs.ca().toString())
          .setServerConfig("hba_file", hba.toString())
          .setServerConfig("password_encryption", "scram-sha-256")
          .setServerConfig("fsync", "off")
          // Logical decoding, so capture from the WAL is tested over TLS too (capture.LogicalTlsTest).
          .setServerConfig("wal_level", "logical")
          .setServerConfig("max_replication_slots", "4")
          .setServerConfig("max_wal_senders", "4")
          .setPGStartupWait(java.time.Duration.ofSeconds(60))
          .start();
      instance = new TlsPg(certs, pg);
      Runtime.getRuntime().addShutdownHook(new Thread(instance::close));
      instance.exec("postgres", "CREATE ROLE sluice_tls LOGIN PASSWORD '" + TLS_PASSWORD.replace("'", "''") + "'",
          "CREATE ROLE sluice_cert LOGIN SUPERUSER", "CREATE ROLE password_login NOLOGIN",
          "CREATE ROLE sluice_pw LOGIN PASSWORD 'first-password' IN ROLE password_login");
      return instance;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the TLS test server: " + e.getMessage(), e);
    }
  }

  public int port() {
    return pg.getPort();
  }

  /** A config for {@code db} on this server, reached as {@code host}, with the given TLS and credentials. */
  public DatabaseConfig database(String host, String db, String user, String password, Path passwordFile, DatabaseConfig.Tls tls) {
    return new DatabaseConfig(host, port(), db, user, password, passwordFile, tls, 1);
  }

  public String createDatabase(String prefix) {
    String name = (prefix + "_" + ProcessHandle.current().pid() + "_" + SEQ.incrementAndGet()).toLowerCase();
    exec("postgres", "CREATE DATABASE " + name);
    return name;
  }

  public String string(String db, String sql) {
    try (Connection c = connect(db); Statement s = c.createStatement(); java.sql.ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public Connection connect(String db) throws SQLException {
    return pg.getDatabase("postgres", db).getConnection();
  }

  public long scalar(String db, String sql) {
    try (Connection c = connect(db); Statement s = c.createStatement(); java.sql.ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      return -1; // e.g. the table does not exist yet
    }
  }

  public void exec(String db, String... sql) {
    try (Connection c = pg.getDatabase("postgres", db).getConnection(); Statement s = c.createStatement()) {
      for (String q : sql) s.execute(q);
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private void close() {
    try {
      pg.close();
    } catch (IOException e) {
      // going away either way
    }
  }
}
