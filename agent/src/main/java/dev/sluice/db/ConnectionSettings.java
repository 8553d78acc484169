package dev.sluice.db;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.DatabaseConfig.SslMode;
import dev.sluice.config.SessionLimits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.pgclient.PgConnectOptions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Everything needed to open one Sluice session on one database, for both clients: vertx-pg-client
 * ({@link #pgConnectOptions(Vertx)}) and PostgreSQL's JDBC driver ({@link #jdbcUrl()},
 * {@link #jdbcProperties()}, {@link #openJdbc()}, for COPY and replication on worker threads). Both get the
 * same server, user, password, TLS and session settings.
 *
 * <p>Session settings: text forms of values travel between databases and feed the row hashes, so both
 * sides print values the same way: UTC time zone, ISO dates, hex bytea, shortest exact floats (any
 * {@code extra_float_digits > 0} on PostgreSQL 12+, so pgjdbc's own 3 prints the same), money in the C
 * locale, XML parsed as content, arrays' NULL elements read as NULL; whatever the database's or the role's defaults.
 *
 * <p>The password is resolved at every new connection ({@link Passwords}): an inline one, the
 * {@code passwordFile} read again (a rotated secret is picked up on the next reconnect), or
 * {@code ~/.pgpass}. Never logged, never in an error.
 */
public record ConnectionSettings(DatabaseConfig db, Map<String, String> session) {
  /**
   * The settings that decide how a value prints and how printed text parses back, pinned in every
   * Sluice session whatever the database's or the role's defaults (the COPY path's sessions set them
   * again after pgjdbc's own, {@code copy.CopySessions}).
   */
  public static final Map<String, String> VALUES = values();

  private static Map<String, String> values() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("DateStyle", "ISO, YMD");
    m.put("TimeZone", "UTC");
    m.put("IntervalStyle", "postgres");
    m.put("extra_float_digits", "1"); // shortest exact floats (PostgreSQL 12+): they round-trip
    m.put("bytea_output", "hex");
    // xmloption=document refuses the XML content fragments a source holds (PostgreSQL's default is content).
    m.put("xmloption", "content");
    m.put("lc_monetary", "C"); // money's text
    // array_nulls=off reads an array's unquoted NULL element (how arrays print one) as the text NULL.
    m.put("array_nulls", "on");
    m.put("standard_conforming_strings", "on"); // the literals Sluice writes into its SQL
    return Map.copyOf(m);
  }

  public static ConnectionSettings of(DatabaseConfig db, String applicationName, SessionLimits limits) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("application_name", applicationName);
    s.putAll(VALUES);
    s.put("client_encoding", "UTF8");
    // NOTICEs ("schema \"sluice\" already exists, skipping") are not problems: not sent, not logged as
    // warnings by the driver. WARNINGs still are.
    s.put("client_min_messages", "warning");
    // Whatever the server's or the role's default: a single statement then takes its snapshot after its
    // table locks, so it never reads a table rewritten while it waited (only the reader's explicit
    // REPEATABLE READ transaction needs its LOCK first, see copy.Reader).
    s.put("default_transaction_isolation", "read committed");
    // As pg_dump does: a query that a row-level security policy would filter fails instead of reading
    // the rows the role may see (a scan that sees fewer rows counts and hashes only those: a job would
    // complete with part of the table). Validation refuses such tables up front (inspect.JobInspector).
    s.put("row_security", "off");
    if (!limits.statementTimeout().isZero()) s.put("statement_timeout", String.valueOf(limits.statementTimeout().toMillis()));
    if (!limits.idleInTransactionTimeout().isZero()) {
      s.put("idle_in_transaction_session_timeout", String.valueOf(limits.idleInTransactionTimeout().toMillis()));
    }
    return new ConnectionSettings(db, Map.copyOf(s));
  }

  /** The same with one more session setting (e.g. {@code default_transaction_read_only=on}). */
  public ConnectionSettings with(String setting, String value) {
    Map<String, String> s = new LinkedHashMap<>(session);
    s.put(setting, value);
    return new ConnectionSettings(db, Map.copyOf(s));
  }

  /** The user to log in as: the configured one, else the OS user's name (libpq's default). */
  public String user() {
    return db.user() != null ? db.user() : System.getProperty("user.name");
  }

  /**
   * Options for one new vertx-pg-client connection. Reading a password file or {@code .pgpass} and loading
   * TLS files are blocking, so they run on a worker thread.
   */
  public Future<PgConnectOptions> pgConnectOptions(Vertx vertx) {
    if (!Passwords.readsFiles(db) && db.tls().mode() == SslMode.DISABLE) return Future.succeededFuture(pgConnectOptions(db.password()));
    return vertx.executeBlocking(() -> {
      PgConnectOptions o = pgConnectOptions(Passwords.resolve(db, user()));
      // prefer: a server without TLS is connected to without it, decided here (TlsOffer says why).
      if (db.tls().mode() == SslMode.PREFER && !TlsOffer.offered(db.host(), db.port(), CONNECT_TIMEOUT_SECONDS * 1000)) {
        o.setSslMode(io.vertx.pgclient.SslMode.DISABLE);
      }
      return o;
    }, false);
  }

  /** Options for one connection with this password (null: none). Blocking when TLS files are first loaded. */
  public PgConnectOptions pgConnectOptions(String password) {
    PgConnectOptions o = new PgConnectOptions()
        .setHost(db.host())
        .setPort(db.port())
        .setDatabase(db.database())
        .setUser(user())
        .setPassword(password == null ? "" : password)
        .setPipeliningLimit(16)
        .setSslMode(io.vertx.pgclient.SslMode.valueOf(db.tls().mode().name()));
    o.setProperties(new LinkedHashMap<>(session));
    if (db.tls().mode() != SslMode.DISABLE) {
      TlsFiles tls = TlsFiles.of(db.tls());
      ClientSSLOptions ssl = new ClientSSLOptions();
      if (tls.trust() == null) ssl.setTrustAll(true);
      else ssl.setTrustOptions(io.vertx.core.net.TrustOptions.wrap(tls.checkingTrust()));
      if (tls.keys() != null) ssl.setKeyCertOptions(io.vertx.core.net.KeyCertOptions.wrap(tls.keys()));
      // verify-full checks the host name; verify-ca (and require with a root certificate) only the chain.
      ssl.setHostnameVerificationAlgorithm(db.tls().mode() == SslMode.VERIFY_FULL ? "HTTPS" : "");
      o.setSslOptions(ssl);
    }
    return o;
  }

  /**
   * A connection failure said plainly: Vert.x reports a refused server certificate as "SSL handshake failed"
   * only, so the reason the trust manager noted is added.
   */
  public Throwable explain(Throwable failure) {
    String noPassword = LoginFailures.noPassword(failure, user());
    if (noPassword != null) return new IllegalStateException(noPassword, failure);
    String m = String.valueOf(failure.getMessage());
    if (db.tls().mode() == SslMode.DISABLE || !m.contains("SSL handshake failed") || !db.tls().verifiesCa()) return failure;
    String why = TlsFiles.of(db.tls()).lastRefusal();
    if (why == null) return failure;
    String hint = why.contains("PKIX") ? " (the server's certificate is not signed by a CA in sslRootCert " + db.tls().rootCert() + ")"
        : why.contains("subject alternative") ? " (sslmode verify-full: the URL's host must be a name in the server's certificate)" : "";
    return new javax.net.ssl.SSLHandshakeException("TLS handshake with " + db.host() + ":" + db.port() + " failed: " + why + hint);
  }

  /** {@code jdbc:postgresql://host:port/database}: no user, password or TLS in it (those are in {@link #jdbcProperties()}). */
  public String jdbcUrl() {
    String host = db.host().indexOf(':') >= 0 ? "[" + db.host() + "]" : db.host();
    return "jdbc:postgresql://" + host + ":" + db.port() + "/" + java.net.URLEncoder.encode(db.database(), java.nio.charset.StandardCharsets.UTF_8)
        .replace("+", "%20");
  }

  /**
   * Sets on {@code p} a read timeout of {@code seconds} (0: none) that also bounds the opening whole
   * (pgjdbc's {@code loginTimeout}): with sslmode prefer (the default), pgjdbc whose TLS request got no
   * answer asks again without TLS, so by the read timeout alone a database that answers nothing held
   * the opening twice as long (measured with pgjdbc 42.7.14).
   */
  public static void readTimeout(Properties p, int seconds) {
    p.setProperty("socketTimeout", String.valueOf(seconds));
    if (seconds > 0) p.setProperty("loginTimeout", String.valueOf(seconds));
  }

  /**
   * JDBC properties with the password resolved now (blocking: call on a worker thread). TLS goes through
   * {@link JdbcTls}, which reads the same PEM files as the Vert.x side; pgjdbc itself checks the host name
   * under verify-full. pgjdbc sets DateStyle, TimeZone, client_encoding and extra_float_digits itself:
   * {@link #openJdbc()} sets the time zone after connecting; the rest go in {@code options}.
   */
  public Properties jdbcProperties() {
    Properties p = new Properties();
    p.setProperty("user", user());
    String password = Passwords.resolve(db, user());
    if (password != null) p.setProperty("password", password);
    p.setProperty("ApplicationName", session.get("application_name"));
    // In the startup packet, not a SET after it: until then the session ran its first statements unnamed, and
    // the foreground sensor (which leaves out sessions named sluice-*) took each new COPY session for a user.
    p.setProperty("assumeMinServerVersion", "10");
    // A host that stops answering must not hang a session for the OS's defaults: the TCP connect gives
    // up after CONNECT_TIMEOUT_SECONDS, and keepalive probes find a dead peer of an idle session (after
    // the OS's keepalive time). Streams in progress are watched by the COPY path itself (copy.StallWatch).
    p.setProperty("connectTimeout", String.valueOf(CONNECT_TIMEOUT_SECONDS));
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("sslmode", db.tls().mode().text());
    if (db.tls().mode() != SslMode.DISABLE) {
      p.setProperty("sslfactory", JdbcTls.class.getName());
      if (db.tls().rootCert() != null) p.setProperty("sslrootcert", db.tls().rootCert());
      if (db.tls().cert() != null) p.setProperty("sslcert", db.tls().cert());
      if (db.tls().key() != null) p.setProperty("sslkey", db.tls().key());
    }
    StringBuilder options = new StringBuilder();
    for (Map.Entry<String, String> e : session.entrySet()) {
      if (PGJDBC_SETS.containsKey(e.getKey())) continue;
      if (options.length() > 0) options.append(' ');
      options.append("-c ").append(e.getKey()).append('=').append(e.getValue().replace("\\", "\\\\").replace(" ", "\\ "));
    }
    if (options.length() > 0) p.setProperty("options", options.toString());
    return p;
  }

  /** How long a JDBC session's TCP connect may take ({@value} s). */
  public static final int CONNECT_TIMEOUT_SECONDS = 30;

  /** Settings pgjdbc sends itself in the startup packet, which win over {@code options}. */
  private static final Map<String, Boolean> PGJDBC_SETS = Map.of("application_name", true, "DateStyle", true, "TimeZone", true,
      "client_encoding", true, "extra_float_digits", true);

  /** A JDBC connection with these settings (blocking: call on a worker thread). */
  public Connection openJdbc() throws SQLException {
    return openJdbc(jdbcProperties());
  }

  /**
   * A JDBC connection with {@code properties} (these settings' {@link #jdbcProperties()} plus any of
   * the caller's, e.g. a replication connection's), its session in UTC. Blocking: a worker thread.
   */
  public Connection openJdbc(Properties properties) throws SQLException {
    Connection c = new org.postgresql.Driver().connect(jdbcUrl(), properties);
    if (c == null) throw new SQLException("the PostgreSQL JDBC driver refused " + jdbcUrl());
    try (Statement s = c.createStatement()) {
      s.execute("SET TimeZone = 'UTC'");
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return c;
  }

  @Override
  public String toString() {
    return "ConnectionSettings[" + db.redacted() + ", " + session + "]";
  }
}
