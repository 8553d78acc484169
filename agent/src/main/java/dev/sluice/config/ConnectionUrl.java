package dev.sluice.config;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A libpq connection URI, {@code postgresql://[user[:password]@]host[:port]/database[?param=value&...]},
 * split into its parts with percent-decoding (a password holding {@code @ : / #} is written
 * {@code %40 %3A %2F %23}). Errors never quote the URL: it may hold a password.
 */
public record ConnectionUrl(String user, String password, String host, Integer port, String database, Map<String, String> params) {

  /** The URL parameters Sluice understands, as libpq spells them. */
  public static final List<String> PARAMETERS = List.of("user", "password", "dbname", "port", "sslmode", "sslrootcert", "sslcert", "sslkey");

  /** A URL that cannot be read; the message says why without repeating the URL. */
  public static final class Invalid extends RuntimeException {
    Invalid(String message) {
      super(message);
    }
  }

  public static ConnectionUrl parse(String url) {
    String rest;
    if (url.startsWith("postgresql://")) rest = url.substring("postgresql://".length());
    else if (url.startsWith("postgres://")) rest = url.substring("postgres://".length());
    else throw new Invalid("must start with postgresql:// or postgres://");
    if (rest.indexOf('#') >= 0) throw new Invalid(special("#"));
    String query = null;
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    // The user-info ends at the last '@' before the path; an '@' after a '/' means a password with a raw '/' or '@'.
    int slash = rest.indexOf('/');
    String authority = slash >= 0 ? rest.substring(0, slash) : rest;
    String path = slash >= 0 ? rest.substring(slash + 1) : "";
    if (path.indexOf('@') >= 0 || path.indexOf('/') >= 0) throw new Invalid(special("/ or @"));
    String user = null;
    String password = null;
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      String info = authority.substring(0, at);
      authority = authority.substring(at + 1);
      if (info.indexOf('@') >= 0) throw new Invalid(special("@"));
      int colon = info.indexOf(':');
      user = decode(colon >= 0 ? info.substring(0, colon) : info, "user");
      if (colon >= 0) password = decode(info.substring(colon + 1), "password");
    }
    if (authority.indexOf(',') >= 0) throw new Invalid("names several hosts; Sluice connects to one host per side");
    String host;
    Integer port = null;
    String portText = null;
    if (authority.startsWith("[")) {
      int end = authority.indexOf(']');
      if (end < 0) throw new Invalid("has an IPv6 address without its closing ]");
      host = authority.substring(1, end);
      String after = authority.substring(end + 1);
      if (after.startsWith(":")) portText = after.substring(1);
      else if (!after.isEmpty()) throw new Invalid("has text after the IPv6 address's ]");
    } else {
      int colon = authority.lastIndexOf(':');
      if (colon >= 0 && authority.indexOf(':') != colon) throw new Invalid(special(":"));
      host = decode(colon >= 0 ? authority.substring(0, colon) : authority, "host");
      if (colon >= 0) portText = authority.substring(colon + 1);
    }
    if (portText != null) port = port(portText);
    String database = path.isEmpty() ? null : decode(path, "database");
    Map<String, String> params = new LinkedHashMap<>();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) continue;
        int eq = pair.indexOf('=');
        if (eq <= 0) throw new Invalid("has a parameter without a value (write name=value)");
        String name = decode(pair.substring(0, eq), "parameter name");
        if (!PARAMETERS.contains(name)) {
          throw new Invalid("has parameter \"" + name + "\", which Sluice does not support (it understands " + String.join(", ", PARAMETERS) + ")");
        }
        if (params.put(name, decode(pair.substring(eq + 1), "parameter " + name)) != null) {
          throw new Invalid("gives parameter \"" + name + "\" twice");
        }
      }
    }
    if (params.containsKey("user")) user = take(user, params.remove("user"), "user");
    if (params.containsKey("password")) password = take(password, params.remove("password"), "password");
    if (params.containsKey("dbname")) database = take(database, params.remove("dbname"), "database");
    if (params.containsKey("port")) {
      Integer p = port(params.remove("port"));
      if (port != null && !port.equals(p)) throw new Invalid("gives the port twice, differently");
      port = p;
    }
    if (host.isEmpty()) throw new Invalid("must name a host (Sluice connects over TCP: postgresql://user@HOST:port/database)");
    return new ConnectionUrl(emptyToNull(user), password, host, port, emptyToNull(database), Map.copyOf(params));
  }

  private static String special(String chars) {
    return "cannot be read: a password (or user) holding " + chars + " must be percent-encoded in a URL (@ is %40, : is %3A, / is %2F, "
        + "# is %23), or given in the \"password\" or \"passwordFile\" field instead";
  }

  private static String take(String inUrl, String param, String what) {
    if (inUrl != null && !inUrl.isEmpty() && !inUrl.equals(param)) throw new Invalid("gives the " + what + " twice, differently");
    return param;
  }

  private static Integer port(String s) {
    try {
      int p = Integer.parseInt(s);
      if (p >= 1 && p <= 65535) return p;
    } catch (NumberFormatException e) {
      // below
    }
    throw new Invalid("has a port that is not a number from 1 to 65535"
        + " (a password holding : / @ must be percent-encoded, or given in the \"password\" field)");
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /** Percent-decoding as libpq does it ({@code +} stays a plus). */
  private static String decode(String s, String what) {
    if (s.indexOf('%') < 0) return s;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int plain = 0;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) != '%') continue;
      out.writeBytes(s.substring(plain, i).getBytes(StandardCharsets.UTF_8));
      if (i + 2 >= s.length() || Character.digit(s.charAt(i + 1), 16) < 0 || Character.digit(s.charAt(i + 2), 16) < 0) {
        throw new Invalid("has a malformed percent-escape in its " + what + " (% must be followed by two hex digits; % itself is %25)");
      }
      out.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
      i += 2;
      plain = i + 1;
    }
    out.writeBytes(s.substring(plain).getBytes(StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "ConnectionUrl[user=" + user + ", password=" + (password == null ? "none" : "***") + ", host=" + host + ", port=" + port
        + ", database=" + database + ", params=" + params + "]";
  }
}
