package dev.sluice.db;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SessionLimits;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.HashMap;
import java.util.Map;

/**
 * Opens connection pools with the session settings every Sluice connection must share. Text forms of
 * values travel between databases and feed the row hashes, so both sides must print values the same
 * way: UTC time zone, ISO dates, hex bytea, shortest exact floats. NOTICEs are not asked for.
 */
public final class Databases {
  private Databases() {}

  public static PgConnectOptions sessionOptions(DatabaseConfig db, String applicationName) {
    return sessionOptions(db, applicationName, SessionLimits.NONE);
  }

  /** Session options with server-side caps: PostgreSQL itself ends a Sluice statement or idle transaction that runs too long. */
  public static PgConnectOptions sessionOptions(DatabaseConfig db, String applicationName, SessionLimits limits) {
    PgConnectOptions o = new PgConnectOptions(db.options());
    Map<String, String> props = new HashMap<>(o.getProperties());
    props.put("application_name", applicationName);
    props.put("DateStyle", "ISO, YMD");
    props.put("TimeZone", "UTC");
    props.put("IntervalStyle", "postgres");
    props.put("extra_float_digits", "1");
    props.put("bytea_output", "hex");
    props.put("client_encoding", "UTF8");
    // NOTICEs ("schema \"sluice\" already exists, skipping") are not problems: not sent, not logged as
    // warnings by the driver. WARNINGs still are.
    props.put("client_min_messages", "warning");
    // Whatever the server's or the role's default: a single statement then takes its snapshot after its
    // table locks, so it never reads a table rewritten while it waited (only the reader's explicit
    // REPEATABLE READ transaction needs its LOCK first, see copy.Reader).
    props.put("default_transaction_isolation", "read committed");
    if (!limits.statementTimeout().isZero()) props.put("statement_timeout", String.valueOf(limits.statementTimeout().toMillis()));
    if (!limits.idleInTransactionTimeout().isZero()) {
      props.put("idle_in_transaction_session_timeout", String.valueOf(limits.idleInTransactionTimeout().toMillis()));
    }
    o.setProperties(props);
    o.setPipeliningLimit(16);
    return o;
  }

  public static Pool pool(Vertx vertx, DatabaseConfig db, String applicationName, int size) {
    return pool(vertx, db, applicationName, size, SessionLimits.NONE);
  }

  public static Pool pool(Vertx vertx, DatabaseConfig db, String applicationName, int size, SessionLimits limits) {
    return pool(vertx, sessionOptions(db, applicationName, limits), db, applicationName, size);
  }

  /**
   * A pool for the read API: each connection keeps its prepared statements, so a read is one Bind and
   * Execute of a statement PostgreSQL parsed once (and, after a few runs, planned once), instead of a
   * Parse and a plan each time, which cost more than the lookup itself. The read path's statements
   * are few and fixed per job, and their result types never change.
   */
  public static Pool readPool(Vertx vertx, DatabaseConfig db, String applicationName, int size) {
    PgConnectOptions o = sessionOptions(db, applicationName);
    // Every statement, however long (a wide table's projection passes the client's default 2048 chars).
    o.setCachePreparedStatements(true).setPreparedStatementCacheSqlFilter(sql -> true);
    return pool(vertx, o, db, applicationName, size);
  }

  private static Pool pool(Vertx vertx, PgConnectOptions options, DatabaseConfig db, String applicationName, int size) {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setName("sluice-" + applicationName + "-" + System.identityHashCode(db))
            .setShared(false).setConnectionTimeout(30).setMaxWaitQueueSize(-1))
        .connectingTo(options)
        .using(vertx)
        .build();
  }
}
