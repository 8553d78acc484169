package dev.sluice.db;

import dev.sluice.config.DatabaseConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a connection's password comes from, in libpq's order: the config's ({@code password}, or the
 * URL's), else {@code passwordFile} (read at every call, so a rotated Kubernetes secret or systemd
 * credential is used by the next new connection), else the first matching line of the password file
 * ({@code PGPASSFILE}, or {@code ~/.pgpass}), else none. Blocking: file reads.
 *
 * <p>A {@code .pgpass} readable by group or others is ignored with a warning, as libpq does. Messages
 * name files, never their content.
 */
public final class Passwords {
  private static final Logger log = LoggerFactory.getLogger(Passwords.class);
  private static final Set<Path> warned = ConcurrentHashMap.newKeySet();

  private Passwords() {}

  /** False when the password is in the config (or there is none to look up): no file to read. */
  static boolean readsFiles(DatabaseConfig db) {
    return db.password() == null;
  }

  /** The password for a new connection as {@code user}; null for none. */
  public static String resolve(DatabaseConfig db, String user) {
    if (db.password() != null) return db.password();
    if (db.passwordFile() != null) return passwordFile(db.passwordFile());
    Path pgpass = pgpassFile();
    if (pgpass == null) return null;
    return pgpass(pgpass, db.host(), db.port(), db.database(), user);
  }

  /** The file's first line, without its line end (files written by {@code echo} end with one). */
  static String passwordFile(Path file) {
    try {
      String s = Files.readString(file, StandardCharsets.UTF_8);
      int nl = s.indexOf('\n');
      if (nl >= 0) s = s.substring(0, nl);
      if (s.endsWith("\r")) s = s.substring(0, s.length() - 1);
      // An empty first line is a secret not written yet (a volume mounted before its content), not a password.
      if (s.isEmpty()) throw new IllegalStateException("passwordFile " + file + " is empty: its first line must be the password");
      return s;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read passwordFile " + file + ": " + e.getClass().getSimpleName(), e);
    }
  }

  /** {@code PGPASSFILE}, else {@code ~/.pgpass}; null when it does not exist. */
  static Path pgpassFile() {
    String env = dev.sluice.config.Env.get("PGPASSFILE");
    Path p = env != null && !env.isEmpty() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".pgpass");
    return Files.isRegularFile(p) ? p : null;
  }

  /** The password of the first line of a libpq password file matching host, port, database and user. */
  static String pgpass(Path file, String host, int port, String database, String user) {
    if (!privateEnough(file)) return null;
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      log.warn("cannot read password file {}: {}", file, e.getClass().getSimpleName());
      return null;
    }
    String[] want = {host, String.valueOf(port), database, user};
    for (String line : lines) {
      if (line.isEmpty() || line.startsWith("#")) continue;
      List<String> f = fields(line);
      if (f.size() < 5) continue;
      boolean match = true;
      for (int i = 0; i < 4 && match; i++) match = f.get(i).equals("*") || f.get(i).equals(want[i]);
      if (match) return f.get(4);
    }
    return null;
  }

  /** Splits a line at unescaped colons; {@code \:} and {@code \\} stand for {@code :} and {@code \}. */
  private static List<String> fields(String line) {
    List<String> out = new java.util.ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '\\' && i + 1 < line.length()) {
        cur.append(line.charAt(++i));
      } else if (c == ':' && out.size() < 4) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }

  private static boolean privateEnough(Path file) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      boolean open = perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"));
      if (open && warned.add(file)) {
        log.warn("password file {} is ignored: it has group or world access; permissions should be u=rw (0600) or less", file);
      }
      return !open;
    } catch (UnsupportedOperationException e) {
      return true; // not a POSIX file system: libpq does not check there either
    } catch (IOException e) {
      return false;
    }
  }
}
