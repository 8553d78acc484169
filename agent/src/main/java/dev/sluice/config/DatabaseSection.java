package dev.sluice.config;

import dev.sluice.config.DatabaseConfig.SslMode;
import dev.sluice.config.DatabaseConfig.Tls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code source} and {@code target}: a libpq URL, and fields for what a URL says badly (a password
 * with special characters, a password in a file, TLS files). A setting given both in the URL and as a field
 * must agree. Files named here are read when connecting (so {@code validate} reports a wrong path, and a
 * rotated password file is read again at each new connection).
 */
final class DatabaseSection {
  private DatabaseSection() {}

  static DatabaseConfig read(ConfigNode n) {
    int before = n.problemCount();
    String url = n.string("url", null, n.isObject());
    boolean urlProblem = n.problemCount() > before; // e.g. an unset ${VAR}: parsing what is left would only confuse
    String user = n.string("user", null, false);
    String password = n.string("password", null, false);
    String passwordFile = n.string("passwordFile", null, false);
    String sslMode = n.string("sslMode", null, false);
    String sslRootCert = n.string("sslRootCert", null, false);
    String sslCert = n.string("sslCert", null, false);
    String sslKey = n.string("sslKey", null, false);
    int pool = n.integer("poolSize", (long) DatabaseConfig.DEFAULT_POOL_SIZE, 1, 200).intValue();
    n.rejectUnknown();
    if (url == null || url.isEmpty() || urlProblem) return null;
    ConnectionUrl u;
    try {
      u = ConnectionUrl.parse(url);
    } catch (ConnectionUrl.Invalid e) {
      n.problem("url", e.getMessage());
      return null;
    }
    int problems = n.problemCount();
    if (u.database() == null) n.problem("url", "must name a database (postgresql://user@host:port/DATABASE)");
    if (u.host() != null && u.host().startsWith("/")) {
      // Neither client Sluice uses opens one here: vertx-pg-client needs a native transport the jar does not carry, the JDBC
      // driver behind COPY needs a socket factory it does not have.
      n.problem("url", "names a Unix-domain socket (" + u.host() + "): Sluice connects over TCP only; use the server's TCP address "
          + "(e.g. postgresql://user@127.0.0.1:5432/" + (u.database() == null ? "db" : u.database()) + ") with a pg_hba.conf host line for it");
    }
    user = agree(n, "user", u.user(), user);
    List<String> passwords = new ArrayList<>();
    if (u.password() != null) passwords.add("in the url");
    if (password != null) passwords.add("\"password\"");
    if (passwordFile != null) passwords.add("\"passwordFile\"");
    if (passwords.size() > 1) n.problem("password", "is given " + String.join(" and ", passwords) + ": give it one way");
    if (password == null) password = u.password();
    String modeText = agree(n, "sslMode", u.params().get("sslmode"), sslMode);
    SslMode mode = modeText == null ? Tls.DEFAULT_MODE : SslMode.parse(modeText);
    if (mode == null) {
      n.problem("sslMode", "must be one of disable, allow, prefer, require, verify-ca, verify-full (got \"" + modeText + "\")");
      mode = Tls.DEFAULT_MODE;
    }
    String root = emptyToNull(agree(n, "sslRootCert", u.params().get("sslrootcert"), sslRootCert));
    String cert = emptyToNull(agree(n, "sslCert", u.params().get("sslcert"), sslCert));
    String key = emptyToNull(agree(n, "sslKey", u.params().get("sslkey"), sslKey));
    if ((mode == SslMode.VERIFY_CA || mode == SslMode.VERIFY_FULL) && root == null) {
      n.problem("sslRootCert", "is required by sslmode " + mode.text() + ": a PEM file of the CA certificates that signed the "
          + "server's certificate, or \"system\" for the JDK's trusted CAs");
    }
    if ((cert == null) != (key == null)) n.problem(cert == null ? "sslCert" : "sslKey", "a client certificate needs both sslCert and sslKey");
    if (n.problemCount() > problems) return null;
    return new DatabaseConfig(u.host(), u.port() == null ? DatabaseConfig.DEFAULT_PORT : u.port(), u.database(), user, password,
        passwordFile == null ? null : Path.of(passwordFile), new Tls(mode, root, cert, key), pool);
  }

  /** The value given in the URL or as a field; both must agree when both are given. */
  private static String agree(ConfigNode n, String field, String inUrl, String asField) {
    if (inUrl != null && asField != null && !inUrl.equals(asField)) {
      n.problem(field, "differs from the url's " + field.toLowerCase(java.util.Locale.ROOT) + " (\"" + asField + "\" and \"" + inUrl
          + "\"): give it once");
    }
    return asField != null ? asField : inUrl;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
