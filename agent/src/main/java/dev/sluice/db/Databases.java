package dev.sluice.db;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SessionLimits;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Handler;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.SqlConnectOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Opens Vert.x connections and pools with the session settings every Sluice connection must share
 * ({@link ConnectionSettings}, which also gives JDBC its URL and properties). NOTICEs are not asked for.
 */
public final class Databases {
  private Databases() {}

  public static ConnectionSettings settings(DatabaseConfig db, String applicationName) {
    return ConnectionSettings.of(db, applicationName, SessionLimits.NONE);
  }

  /**
   * How long opening a connection may take in all (TCP, TLS, the login), as for the JDBC sessions
   * ({@code connectTimeout}). A host that accepts the TCP connection and then never answers (frozen, or
   * a proxy holding the connection) held {@code validate}, an agent's start and {@code status} for the
   * caller's own limit (ten minutes), then said only "timed out".
   */
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

  /** One connection, outside any pool: its password and TLS files are resolved now. */
  public static Future<PgConnection> connect(Vertx vertx, ConnectionSettings settings) {
    return connect(vertx, settings, CONNECT_TIMEOUT);
  }

  /** As above, opened within {@code timeout} or failed saying so (a connection that comes later is closed). */
  static Future<PgConnection> connect(Vertx vertx, ConnectionSettings settings, Duration timeout) {
    // One promise both the timer and the connection try to settle: whichever comes second knows it did,
    // and a connection that comes after the timer is closed, never left open.
    Promise<PgConnection> outcome = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> outcome.tryFail(new IllegalStateException("no answer from "
        + settings.db().redacted() + " within " + timeout.toMillis() / 1000.0 + " s while connecting (TCP, TLS and the login): "
        + "the host is unreachable or frozen, or a proxy or firewall holds the connection")));
    settings.pgConnectOptions(vertx)
        .compose(o -> PgConnection.connect(vertx, o).recover(e -> LoginFailures.retold(vertx, o, e)))
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            if (!outcome.tryComplete(ar.result())) ar.result().close();
          } else {
            outcome.tryFail(settings.explain(ar.cause()));
          }
        });
    return outcome.future();
  }

  public static Future<PgConnection> connect(Vertx vertx, DatabaseConfig db, String applicationName) {
    return connect(vertx, settings(db, applicationName));
  }

  public static Future<PgConnection> connect(Vertx vertx, DatabaseConfig db, String applicationName, SessionLimits limits) {
    return connect(vertx, ConnectionSettings.of(db, applicationName, limits));
  }

  public static Pool pool(Vertx vertx, DatabaseConfig db, String applicationName, int size) {
    return pool(vertx, db, applicationName, size, SessionLimits.NONE);
  }

  public static Pool pool(Vertx vertx, DatabaseConfig db, String applicationName, int size, SessionLimits limits) {
    return pool(vertx, ConnectionSettings.of(db, applicationName, limits), o -> o, applicationName, size, limits.nice(), db.redacted(), null);
  }

  /**
   * A pool named {@code name} whose sessions are {@code applicationName}'s; {@code connected} hears each
   * connection the pool opens, before its first statement, and must close it: that hands it to the
   * pool (the change applier keeps their sockets, to reset them after a stall: {@link ConnectionReset}).
   */
  public static Pool pool(Vertx vertx, DatabaseConfig db, String applicationName, String name, int size, SessionLimits limits,
      Handler<SqlConnection> connected) {
    return pool(vertx, ConnectionSettings.of(db, applicationName, limits), o -> o, name, size, limits.nice(), db.redacted(), connected);
  }

  /**
   * A pool for the read API: each connection keeps its prepared statements, so a read is one Bind and
   * Execute of a statement PostgreSQL parsed once (and, after a few runs, planned once), instead of a
   * Parse and a plan each time, which cost more than the lookup itself. The read path's statements
   * are few and fixed per job, and their result types never change.
   */
  public static Pool readPool(Vertx vertx, DatabaseConfig db, String database, int size) {
    return readPool(vertx, db, database, size, SessionLimits.NONE, null);
  }

  /** As above, its sessions capped by {@code limits}; {@code connected} as for {@link #pool(Vertx, DatabaseConfig, String, String, int, SessionLimits, Handler)}. */
  public static Pool readPool(Vertx vertx, DatabaseConfig db, String database, int size, SessionLimits limits, Handler<SqlConnection> connected) {
    // Every statement, however long (a wide table's projection passes the client's default 2048 chars).
    // A read waits for a connection as long as it may wait for its answer (statement_timeout), and at most
    // READ_QUEUE reads wait at once: past that the read API says the pool is busy rather than queue without end.
    long waitMs = limits.statementTimeout().isZero() ? 30_000 : limits.statementTimeout().toMillis();
    return pool(vertx, ConnectionSettings.of(db, "sluice-reads", limits),
        o -> o.setCachePreparedStatements(true).setPreparedStatementCacheSqlFilter(sql -> true), "sluice-reads-" + database, size,
        0, null, connected, p -> p.setConnectionTimeout((int) waitMs).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS).setMaxWaitQueueSize(READ_QUEUE));
  }

  /** Reads waiting for a read pool's connection at most. */
  public static final int READ_QUEUE = 256;

  /**
   * Each new connection of the pool asks for its options afresh, so it reads the password file again:
   * a rotated password is used from the next reconnect on, with no restart. {@code name} is the pool's
   * {@code pool_name} in {@code vertx_pool_*} metrics: the same at every start ({@code sluice-source},
   * {@code sluice-reads-target}, ...), and unique within one agent.
   */
  private static Pool pool(Vertx vertx, ConnectionSettings settings, UnaryOperator<PgConnectOptions> tune, String name, int size) {
    return pool(vertx, settings, tune, name, size, 0, null, null);
  }

  /**
   * {@code nice} above 0: each new connection's server process gets that priority before the pool
   * hands the connection out, where it runs on this host ({@link BackendPriority}). {@code connected}
   * (may be null) then hears the connection and must close it, which hands it to the pool.
   */
  private static Pool pool(Vertx vertx, ConnectionSettings settings, UnaryOperator<PgConnectOptions> tune, String name, int size,
      int nice, String database, Handler<SqlConnection> connected) {
    return pool(vertx, settings, tune, name, size, nice, database, connected, p -> p);
  }

  private static Pool pool(Vertx vertx, ConnectionSettings settings, UnaryOperator<PgConnectOptions> tune, String name, int size,
      int nice, String database, Handler<SqlConnection> connected, UnaryOperator<PoolOptions> poolTune) {
    Supplier<Future<SqlConnectOptions>> options = () -> settings.pgConnectOptions(vertx).map(tune::apply);
    var builder = PgBuilder.pool()
        .with(poolTune.apply(new PoolOptions().setMaxSize(size).setName(name)
            .setShared(false).setConnectionTimeout(30).setMaxWaitQueueSize(-1)))
        .connectingTo(options)
        .using(vertx);
    Handler<SqlConnection> then = connected != null ? connected : SqlConnection::close;
    if (nice > 0) {
      // The pool takes the connection once the handler (or `connected`) closes it.
      builder.withConnectHandler(conn -> {
        // Once the database refused (remote, another user's processes), no new connection asks again.
        if (!BackendPriority.wanted(nice, database)) {
          then.handle(conn);
          return;
        }
        conn.query("SELECT pg_backend_pid(), coalesce(inet_client_port(), -1)").execute()
            .compose(rows -> {
              Row r = rows.iterator().next();
              long pid = r.getInteger(0);
              int port = r.getInteger(1);
              return vertx.executeBlocking(() -> BackendPriority.lower(pid, port, nice, database), false);
            })
            .onComplete(ar -> then.handle(conn));
      });
    } else if (connected != null) {
      builder.withConnectHandler(connected);
    }
    return builder.build();
  }
}
