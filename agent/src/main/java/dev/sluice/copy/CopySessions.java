package dev.sluice.copy;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SessionLimits;
import dev.sluice.db.BackendPriority;
import dev.sluice.db.ConnectionSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

/**
 * The COPY path's JDBC sessions to one database (PostgreSQL's driver: vertx-pg-client has no
 * COPY), kept open between segments. Used only from the COPY worker threads, never from an event
 * loop; how many are open at once is bounded by the engine's slots, not here.
 *
 * <p>Every session pins the settings that decide how a value prints ({@link #SETTINGS}): source and
 * target must print equal rows as equal bytes, since the bytes are what is hashed on both sides,
 * and the target must parse what the source printed. Sessions are named {@code sluice-..}, so the
 * health sensors do not count them as the database's users.
 */
public final class CopySessions implements AutoCloseable {
  /** Output-deciding settings, every Sluice session's ({@link ConnectionSettings#VALUES}), set again here after pgjdbc's own. */
  public static final Map<String, String> SETTINGS = ConnectionSettings.VALUES;

  /** How long an idle session has to answer before it is dropped for a new one (at most the stall timeout). */
  private static final int VALID_SECONDS = 5;

  private final ConnectionSettings connect;
  private final String init;
  private final String name;
  private final int connectTimeoutSeconds;
  private final int socketTimeoutSeconds;
  private final int validSeconds;
  private final int nice;
  private final String database;
  private final Deque<Connection> idle = new ArrayDeque<>();
  private boolean closed;

  /**
   * Sessions to {@code db} named {@code applicationName}, opened as every Sluice session is
   * ({@link ConnectionSettings}: the same server, user, password and TLS as the pools).
   * {@code statementTimeout} caps one COPY statement (a whole segment's stream on one side),
   * {@code idleTimeout} an idle transaction; zero for none. {@code stallTimeout}: how long a
   * stream's {@link StallWatch} lets a session answer nothing (its reads also time out at twice it).
   */
  public CopySessions(DatabaseConfig db, String applicationName, Duration statementTimeout, Duration idleTimeout, Duration stallTimeout) {
    this(db, applicationName, statementTimeout, idleTimeout, stallTimeout, 0);
  }

  /** The same, each new session's server process at {@code nice} where it runs on this host ({@link BackendPriority}). */
  public CopySessions(DatabaseConfig db, String applicationName, Duration statementTimeout, Duration idleTimeout, Duration stallTimeout,
      int nice) {
    this.nice = nice;
    this.database = db.redacted();
    this.connect = ConnectionSettings.of(db, applicationName, new SessionLimits(statementTimeout, idleTimeout, stallTimeout));
    // A stream's StallWatch cannot abort a session before it is open: the TCP connect gives up within
    // the stall timeout (at most the usual 30 s), and as a backstop for any wait no watch times, a read
    // that waits twice the stall timeout fails. While a stream runs, its watch ends such a wait first.
    long stallSeconds = Math.max(1, (stallTimeout.toMillis() + 999) / 1000);
    this.connectTimeoutSeconds = (int) Math.min(ConnectionSettings.CONNECT_TIMEOUT_SECONDS, stallSeconds);
    this.socketTimeoutSeconds = (int) Math.min(Integer.MAX_VALUE, 2 * stallSeconds);
    // An idle session that does not answer within the stall timeout is one a stream would call stalled.
    this.validSeconds = (int) Math.min(VALID_SECONDS, stallSeconds);
    this.name = applicationName + " " + db.redacted();
    Map<String, String> s = new LinkedHashMap<>(SETTINGS);
    s.put("statement_timeout", String.valueOf(statementTimeout.toMillis()));
    s.put("idle_in_transaction_session_timeout", String.valueOf(idleTimeout.toMillis()));
    this.init = s.entrySet().stream().map(e -> "SET " + e.getKey() + " = " + CopySql.literal(e.getValue()))
        .collect(Collectors.joining("; "));
  }

  /**
   * An idle session that still answers, or a new one. Blocks: worker threads only. An idle session is
   * asked first (one round trip): after the server restarted, or ended sessions, every idle one is
   * dead, and handing them out would fail one segment attempt each (enough of them park a segment).
   */
  public Connection take() throws SQLException {
    while (true) {
      Connection c;
      synchronized (this) {
        if (closed) throw new SQLException("COPY sessions to " + name + " are closed", "08003");
        c = idle.pollFirst();
      }
      if (c == null) break;
      if (answers(c, validSeconds)) return c;
      quietly(c);
    }
    Properties p = connect.jdbcProperties();
    p.setProperty("connectTimeout", String.valueOf(connectTimeoutSeconds));
    ConnectionSettings.readTimeout(p, socketTimeoutSeconds);
    Connection c = connect.openJdbc(p);
    try (Statement st = c.createStatement()) {
      st.execute(init);
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    BackendPriority.lower(c, nice, database);
    return c;
  }

  private static boolean answers(Connection c, int seconds) {
    try {
      return c.isValid(seconds);
    } catch (SQLException e) {
      return false;
    }
  }

  /** Returns a session that finished its work cleanly (no transaction open); any other is closed. */
  public void give(Connection c) {
    boolean keep;
    try {
      keep = !c.isClosed() && c.unwrap(BaseConnection.class).getTransactionState() == TransactionState.IDLE;
    } catch (SQLException e) {
      keep = false;
    }
    synchronized (this) {
      if (keep && !closed) {
        idle.addFirst(c);
        return;
      }
    }
    quietly(c);
  }

  /**
   * Drops a session at once from any thread: its socket is closed, so a thread blocked reading or
   * writing it fails, and the server rolls back whatever transaction it had open.
   */
  public static void abort(Connection c, Executor executor) {
    try {
      c.abort(executor);
    } catch (SQLException | RuntimeException e) {
      quietly(c);
    }
  }

  /**
   * Runs an abort on a thread of its own, so the caller (an event loop) never waits for it: closing a
   * TLS socket may wait for a writer blocked on a frozen peer.
   */
  static final Executor APART = r -> {
    Thread t = new Thread(r, "sluice-copy-abort");
    t.setDaemon(true);
    t.start();
  };

  static void quietly(Connection c) {
    try {
      c.close();
    } catch (SQLException | RuntimeException ignored) {
      // already gone
    }
  }

  @Override
  public void close() {
    Deque<Connection> all;
    synchronized (this) {
      closed = true;
      all = new ArrayDeque<>(idle);
      idle.clear();
    }
    all.forEach(CopySessions::quietly);
  }
}
