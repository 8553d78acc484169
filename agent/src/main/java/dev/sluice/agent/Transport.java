package dev.sluice.agent;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.DatabaseConfig.SslMode;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

/**
 * How a session reached its database, as the server saw it ({@code pg_stat_ssl}), for {@code validate}: a
 * person taking Sluice to production sees whether the link is encrypted and who was checked, where the
 * default {@code sslmode=prefer} would run without TLS, or unverified, and say nothing.
 */
final class Transport {
  private Transport() {}

  static Future<String> describe(SqlClient session, DatabaseConfig db) {
    return session.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").execute().map(rows -> {
      Row r = rows.iterator().hasNext() ? rows.iterator().next() : null;
      SslMode mode = db.tls().mode();
      String sslmode = "sslmode " + mode.text();
      if (r == null || !Boolean.TRUE.equals(r.getBoolean(0))) {
        return "not encrypted (" + sslmode + (mode == SslMode.DISABLE ? "" : ": the server offered no TLS") + ")";
      }
      String checked = mode == SslMode.VERIFY_FULL ? "the server's certificate and host name checked"
          : db.tls().verifiesCa() ? "the server's certificate checked, not its host name"
          : "the server not checked: sslmode verify-full with sslRootCert checks who answers";
      return "TLS (" + r.getString(1) + "), " + checked + " (" + sslmode + ")";
    });
  }
}
