package dev.sluice.config;

import java.nio.file.Path;
import java.util.Locale;

/**
 * One PostgreSQL endpoint, as libpq understands it: where ({@code host}, {@code port},
 * {@code database}), who ({@code user}), how it proves it (an inline {@code password}, a
 * {@code passwordFile} read at every new connection, or else {@code ~/.pgpass}), and TLS.
 * {@code db.ConnectionSettings} turns it into options for either client (vertx-pg-client and JDBC).
 * The password never leaves through {@link #toString()} or {@link #redacted()}.
 */
public record DatabaseConfig(String host, int port, String database, String user, String password, Path passwordFile, Tls tls, int poolSize) {

  public static final int DEFAULT_PORT = 5432;
  public static final int DEFAULT_POOL_SIZE = 8;

  /** libpq's sslmode values, in its order of strictness. */
  public enum SslMode {
    DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL;

    /** As written in a URL or a config: {@code verify-full}. */
    public String text() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static SslMode parse(String s) {
      for (SslMode m : values()) if (m.text().equals(s)) return m;
      return null;
    }
  }

  /** Trust the JDK's default CA certificates ({@code sslrootcert=system}, as libpq 16 spells it). */
  public static final String SYSTEM_ROOTS = "system";

  /**
   * TLS as libpq's {@code sslmode}, {@code sslrootcert}, {@code sslcert}, {@code sslkey}; files in PEM.
   * Default mode {@code prefer} (libpq's): TLS when the server offers it, unverified.
   */
  public record Tls(SslMode mode, String rootCert, String cert, String key) {
    public static final SslMode DEFAULT_MODE = SslMode.PREFER;
    public static final Tls DEFAULT = new Tls(DEFAULT_MODE, null, null, null);

    /** The server's certificate is checked against {@link #rootCert}: verify-ca, verify-full, or require with a root
     * certificate given (libpq's rule). */
    public boolean verifiesCa() {
      return mode == SslMode.VERIFY_CA || mode == SslMode.VERIFY_FULL || (mode == SslMode.REQUIRE && rootCert != null);
    }
  }

  /** {@code postgresql://user@host:port/database?sslmode=...}: no password, ever. */
  public String redacted() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return "postgresql://" + (user == null ? "" : user + "@") + h + ":" + port + "/" + database
        + (tls.mode() == Tls.DEFAULT_MODE ? "" : "?sslmode=" + tls.mode().text());
  }

  public boolean sameServerAs(DatabaseConfig other) {
    return host.equals(other.host) && port == other.port;
  }

  public boolean sameDatabaseAs(DatabaseConfig other) {
    return sameServerAs(other) && database.equals(other.database);
  }

  @Override
  public String toString() {
    return redacted();
  }
}
