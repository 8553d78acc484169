package dev.sluice.testing;

import dev.sluice.embedded.EmbeddedDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A PostgreSQL server of one test's own (not the shared {@link TestPg}: no other test's transactions), with {@code wal_level=logical},
 * that the test can restart: stopped cleanly (fast shutdown) and started again on the same data
 * directory and port, so clients see the server go away and come back with its data and its
 * replication slots. {@link #close} removes it.
 */
public final class RestartablePg implements AutoCloseable {
  private final Path dir;
  private final int port;
  private EmbeddedPostgres pg;

  private RestartablePg(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  public static RestartablePg start() {
    try {
      RestartablePg r = new RestartablePg(Files.createTempDirectory("sluice-restartpg-"), EmbeddedDatabase.freePort());
      r.pg = r.builder().start();
      return r;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start a PostgreSQL of the test's own: " + e.getMessage(), e);
    }
  }

  /** Never the builder's clean-up: it would delete the data directory at each stop (this class deletes it in {@link #close}). */
  private EmbeddedPostgres.Builder builder() {
    return EmbeddedPostgres.builder()
        .setDataDirectory(dir)
        .setCleanDataDirectory(false)
        .setPort(port)
        .setServerConfig("fsync", "off")
        .setServerConfig("wal_level", "logical")
        .setServerConfig("max_replication_slots", "4")
        .setServerConfig("max_wal_senders", "4")
        // A fast shutdown waits for each WAL sender's client to confirm the end of the WAL; a client that
        // went away without closing (its agent's connection was cut) holds it for wal_sender_timeout.
        .setServerConfig("wal_sender_timeout", "5s")
        // authentication_timeout stays at its 60 s: a client's connection attempt left waiting in start-up while the
        // server shuts down holds the shutdown that long (PostgresRestartTest times the restart; db.TlsOffer).
        .setPGStartupWait(java.time.Duration.ofSeconds(60));
  }

  /** Stops the server (fast shutdown: sessions are ended, slots saved) and starts it again; blocks until it is up. */
  public void restart() {
    try {
      // The embedded server's stop
      // waits 5 s only (a fast shutdown waits for the WAL senders' clients, longer on a loaded machine):
      // the new postmaster starts once the old one has exited.
      ProcessHandle old = ProcessHandle.of(postmasterPid()).orElse(null);
      pg.close();
      if (old != null) {
        try {
          old.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("PostgreSQL (pid " + old.pid() + ") did not stop within 60 s", e);
        }
      }
      pg = builder().start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot restart PostgreSQL: " + e.getMessage(), e);
    }
  }

  /**
   * A hot standby of this server, as it is now: this one stopped cleanly, its data directory copied,
   * this one started again; the copy starts in recovery ({@code standby.signal}, no primary to stream
   * from), read-only, with this one's data. The caller closes it.
   */
  public RestartablePg standbyCopy() {
    try {
      RestartablePg copy = new RestartablePg(Files.createTempDirectory("sluice-standbypg-"), EmbeddedDatabase.freePort());
      ProcessHandle old = ProcessHandle.of(postmasterPid()).orElse(null);
      pg.close();
      if (old != null) old.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
      try (var files = Files.walk(dir)) {
        for (Path from : (Iterable<Path>) files::iterator) {
          Path to = copy.dir.resolve(dir.relativize(from).toString());
          if (Files.isDirectory(from)) Files.createDirectories(to);
          else if (!from.getFileName().toString().equals("postmaster.pid")) Files.copy(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Files.writeString(copy.dir.resolve("standby.signal"), "");
      pg = builder().start();
      copy.pg = copy.builder().start();
      return copy;
    } catch (Exception e) {
      throw new IllegalStateException("cannot make a standby: " + e.getMessage(), e);
    }
  }

  /** The postmaster's process id, from the pid file in the server's data directory (as the server names it). */
  private long postmasterPid() {
    try (Connection c = connect("postgres"); Statement s = c.createStatement();
        java.sql.ResultSet r = s.executeQuery("SHOW data_directory")) {
      r.next();
      return Long.parseLong(Files.readAllLines(Path.of(r.getString(1), "postmaster.pid")).get(0).trim());
    } catch (SQLException | IOException e) {
      throw new IllegalStateException("cannot find the postmaster's pid: " + e.getMessage(), e);
    }
  }

  public int port() {
    return port;
  }

  public String url(String db) {
    return "postgresql://postgres@127.0.0.1:" + port + "/" + db;
  }

  public Connection connect(String db) throws SQLException {
    return pg.getDatabase("postgres", db).getConnection();
  }

  public void exec(String db, String... sql) {
    try (Connection c = connect(db); Statement s = c.createStatement()) {
      for (String q : sql) s.execute(q);
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public long scalar(String db, String sql) {
    try (Connection c = connect(db); Statement s = c.createStatement(); java.sql.ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      pg.close();
    } catch (IOException e) {
      // going away either way
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory
    }
  }
}
