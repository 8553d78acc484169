package dev.sluice.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.pgclient.SslMode;

/**
 * A failed login said as its real cause. Under {@code sslmode=prefer} (the default) vertx-pg-client tries
 * TLS first and, whatever made that fail (a wrong password, no password at all), asks again without TLS;
 * only that second answer reached the user. Against a server that accepts TLS only ({@code hostssl}
 * lines, a {@code hostnossl .. reject}), it read {@code pg_hba.conf rejects connection .., no encryption}:
 * a wrong password looked like a TLS problem. libpq prints both answers; this asks again over TLS and
 * reports the TLS attempt's answer, the plain one after it.
 */
final class LoginFailures {
  private LoginFailures() {}

  /** A connection for {@code o} whose first try failed with {@code failure}; or the failure said plainly. */
  static Future<PgConnection> retold(Vertx vertx, PgConnectOptions o, Throwable failure) {
    if (o.getSslMode() != SslMode.PREFER || !refusedWithoutTls(failure)) return Future.failedFuture(failure);
    return PgConnection.connect(vertx, new PgConnectOptions(o).setSslMode(SslMode.REQUIRE))
        .recover(tls -> Future.failedFuture(both(tls, failure)));
  }

  /** The server's own refusal of a session without TLS (PostgreSQL 12+: "no encryption"; before: "SSL off"). */
  static boolean refusedWithoutTls(Throwable t) {
    return t instanceof PgException pg && "28000".equals(pg.getSqlState()) && pg.getErrorMessage() != null
        && pg.getErrorMessage().startsWith("pg_hba.conf rejects connection")
        && (pg.getErrorMessage().endsWith("no encryption") || pg.getErrorMessage().endsWith("SSL off"));
  }

  private static Throwable both(Throwable tls, Throwable plain) {
    String then = "; under sslmode prefer it then tried without TLS, which the server refuses ("
        + ((PgException) plain).getErrorMessage() + ")";
    if (tls instanceof PgException pg) {
      return new PgException(pg.getErrorMessage() + then, pg.getSeverity(), pg.getSqlState(), pg.getDetail());
    }
    String m = tls.getMessage() == null ? tls.getClass().getSimpleName() : tls.getMessage();
    return new IllegalStateException(m + then, tls);
  }

  /**
   * vertx-pg-client's words when the server asks for a password and there is none ("The value for
   * 'password' must not be empty", from its SCRAM exchange), as what to do; null for any other failure.
   */
  static String noPassword(Throwable t, String user) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String m = c.getMessage();
      if (m != null && m.contains("The value for 'password' must not be empty")) {
        return "the server asks for user " + user + "'s password and none was given: set the side's password or passwordFile, "
            + "or add a line for it to the libpq password file (PGPASSFILE, else ~/.pgpass, mode 0600)"
            + (m.length() > m.indexOf("empty") + 5 ? m.substring(m.indexOf("empty") + 5) : "");
      }
    }
    return null;
  }
}
