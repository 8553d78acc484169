package dev.sluice.db;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lower CPU and I/O priority for Sluice's own work where it shares a host with the database
 * ({@code sessions.nice}): the agent's threads, and each session's server process (its backend),
 * get that nice value and the lowest best-effort I/O priority, so the database's users get the
 * cores first and Sluice takes what they leave.
 *
 * <p>A backend is lowered only when it is certainly this session's: its process, seen in this
 * host's {@code /proc}, names the client port {@code inet_client_port()} reports in its process
 * title ({@code postgres: user db 127.0.0.1(54321) ...}). A database on another host, in another PID
 * namespace (a container) is left alone; so is one whose backends run
 * as another OS user this agent may not renice (as root, or as the database's own user, it may).
 * Either is said once a database, at INFO; nothing fails for it.
 *
 * <p>Blocking (it runs {@code renice} and {@code ionice}): worker threads only.
 */
public final class BackendPriority {
  private static final Logger log = LoggerFactory.getLogger(BackendPriority.class);
  /** The highest nice value (the lowest priority) Linux has. */
  public static final int MAX_NICE = 19;
  /** Databases (by name) whose backends cannot be lowered: asked no more. */
  private static final Map<String, String> refused = new ConcurrentHashMap<>();

  private BackendPriority() {}

  /**
   * Lowers the priority of the backend of {@code c} to {@code nice} when it runs on this host and
   * this agent may; {@code database} names it in the one log line a refusal gets. Returns whether it did.
   */
  public static boolean lower(Connection c, int nice, String database) {
    if (!wanted(nice, database)) return false;
    long pid;
    int port;
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid(), coalesce(inet_client_port(), -1)")) {
      rs.next();
      pid = rs.getLong(1);
      port = rs.getInt(2);
    } catch (SQLException e) {
      return false; // the caller's own first statement will meet the same problem and report it
    }
    return lower(pid, port, nice, database);
  }

  /** The same for a backend already known by its process id and its session's client port. */
  public static boolean lower(long pid, int clientPort, int nice, String database) {
    if (!wanted(nice, database)) return false;
    if (!ownBackend(pid, clientPort)) {
      refuse(database, "its server processes are not on this host (or not visible from here: another PID namespace)");
      return false;
    }
    String err = lowerAll(List.of(String.valueOf(pid)), nice);
    if (err != null) {
      if (vanishedOnly(err) != null) refuse(database, err.lines().findFirst().orElse(err)); // else the session just ended
      return false;
    }
    return true;
  }

  /** Lowers every thread of this JVM (threads started later inherit it from the thread that starts them). */
  public static boolean lowerAgent(int nice) {
    if (nice <= 0) return false;
    List<String> tids = new ArrayList<>();
    try (var s = Files.list(Path.of("/proc/self/task"))) {
      s.forEach(p -> tids.add(p.getFileName().toString()));
    } catch (IOException | UnsupportedOperationException e) {
      log.info("sessions.nice: cannot list this agent's threads ({}); the agent keeps its priority", e.getMessage());
      return false;
    }
    // A thread may end between the listing and the command: "No such process" for it is no failure.
    String err = vanishedOnly(lowerAll(tids, nice));
    if (err != null) {
      log.info("sessions.nice: cannot lower this agent's priority ({}); it keeps its own", err.lines().findFirst().orElse(err));
      return false;
    }
    log.info("sessions.nice: the agent's threads and its sessions' server processes on this host run at nice {}, I/O best-effort 7", nice);
    return true;
  }

  /**
   * Gives the processes (or threads) {@code ids} the nice value {@code nice} and the lowest
   * best-effort I/O priority; null when both commands succeeded, else what the failing one said.
   */
  private static String lowerAll(List<String> ids, int nice) {
    List<String> renice = new ArrayList<>(List.of("renice", "-n", String.valueOf(nice), "-p"));
    renice.addAll(ids);
    String err = run(renice);
    if (err != null) return err;
    List<String> ionice = new ArrayList<>(List.of("ionice", "-c", "2", "-n", "7", "-p"));
    ionice.addAll(ids);
    return run(ionice);
  }

  /** Whether sessions to {@code database} are to be lowered to {@code nice} (on, and not refused before). */
  public static boolean wanted(int nice, String database) {
    return nice > 0 && !refused.containsKey(database);
  }

  /**
   * Whether process {@code pid} of this host is the backend of the session whose client port is
   * {@code clientPort}: PostgreSQL writes {@code host(port)} of its client into its process title.
   */
  static boolean ownBackend(long pid, int clientPort) {
    if (pid <= 0 || clientPort <= 0) return false;
    try {
      String title = new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline")), StandardCharsets.UTF_8);
      return title.startsWith("postgres") && title.contains("(" + clientPort + ")");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * {@code said} unless every failure in it is about a process that no longer exists (then null).
   * renice prints a line for each process it did change ("... old priority 0, new priority 10"),
   * which is no failure.
   */
  static String vanishedOnly(String said) {
    if (said == null) return null;
    return said.lines().allMatch(l -> l.isBlank() || l.contains("No such process") || l.contains("new priority")) ? null : said;
  }

  /** Runs a command; null when it succeeded, else what it said (or why it could not run). */
  static String run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return command.get(0) + " did not finish";
      }
      if (p.exitValue() == 0) return null;
      String said = new String(out, StandardCharsets.UTF_8).trim();
      return said.isEmpty() ? command.get(0) + ": exit " + p.exitValue() : said;
    } catch (IOException e) {
      return command.get(0) + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return command.get(0) + " interrupted";
    }
  }

  private static void refuse(String database, String why) {
    if (refused.putIfAbsent(database, why) == null) {
      log.info("sessions.nice: the sessions on the {} database keep the server's priority: {}", database, why);
    }
  }

  /** Forgets refusals (tests). */
  static void reset() {
    refused.clear();
  }
}
