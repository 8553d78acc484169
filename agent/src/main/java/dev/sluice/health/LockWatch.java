package dev.sluice.health;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SessionLimits;
import dev.sluice.config.TableName;
import dev.sluice.db.ConnectionReset;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.db.Databases;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which of Sluice's statements wait for a lock, on what, and behind whom: once a second on each
 * database, whatever sensors are configured, Sluice's sessions ({@code application_name} starting with
 * {@code sluice-}) that wait with {@code wait_event_type = 'Lock'} are read from
 * {@code pg_stat_activity}, with the lock they want ({@code pg_locks}) and the session holding them up
 * ({@code pg_blocking_pids}; the one whose transaction is oldest). A job's copy that makes no progress
 * behind someone's {@code LOCK TABLE} then says so, instead of only slowing down for no stated reason.
 * Only what is already known to the role is read; no query text is shown. A poll with no answer at all
 * for twice the sensors' timeout (a silent database) is given up and its session reset: the wait it saw
 * last is forgotten (the sensors and the breaker report the database), and the next poll opens a fresh one.
 */
public final class LockWatch {
  static final long POLL_MS = 1000;
  /** How every reason of this watch begins (the metrics tell it from other waits by it). */
  public static final String REASON = "waiting for a lock";

  /**
   * A lock that Sluice sessions wait for: where, on what (null relation: a row or transaction lock), in
   * which modes, how many sessions, for how long at most, and behind whom.
   */
  public record Wait(String database, String schema, String relation, String lockType, String mode, int sessions, double seconds,
      Integer blockerPid, String blockerApplication, String blockerState, Double blockerTransactionSeconds) {}

  // Each waiting Sluice session's ungranted lock, and of the sessions it waits for, the one to name: a
  // session that is not Sluice's first (a Sluice statement may queue behind another that waits too),
  // then the oldest transaction.
  static final String SQL = "WITH w AS (SELECT a.pid, a.query_start, pg_blocking_pids(a.pid) AS blockers FROM pg_stat_activity a "
      + "WHERE a.wait_event_type = 'Lock' AND a.datname = current_database() AND a.pid <> pg_backend_pid() "
      + "AND a.application_name LIKE 'sluice-%') "
      + "SELECT n.nspname::text, c.relname::text, l.locktype, l.mode, "
      + "extract(epoch FROM clock_timestamp() - w.query_start)::float8, b.pid, b.application_name, b.state, "
      + "extract(epoch FROM clock_timestamp() - b.xact_start)::float8 "
      + "FROM w JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted "
      + "LEFT JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_namespace n ON n.oid = c.relnamespace "
      + "LEFT JOIN LATERAL (SELECT s.pid, s.application_name, s.state, s.xact_start FROM pg_stat_activity s "
      + " WHERE s.pid = ANY (w.blockers) ORDER BY coalesce(s.application_name, '') LIKE 'sluice-%', s.xact_start NULLS LAST LIMIT 1) b ON true";

  private final Vertx vertx;
  private final Map<String, DatabaseConfig> databases;
  private final Duration timeout;
  private final Map<String, List<Wait>> waits = new ConcurrentHashMap<>();
  private final Map<String, PgConnection> connections = new ConcurrentHashMap<>();
  private final Map<String, Boolean> busy = new ConcurrentHashMap<>();
  private long timer = -1;

  /** Watches the source and the target (once when they are one database). */
  public LockWatch(Vertx vertx, DatabaseConfig source, DatabaseConfig target, Duration timeout) {
    this.vertx = vertx;
    this.databases = new LinkedHashMap<>();
    if (!sameDatabase(source, target)) databases.put("source", source);
    databases.put("target", target);
    this.timeout = timeout;
  }

  private static boolean sameDatabase(DatabaseConfig a, DatabaseConfig b) {
    return a.sameDatabaseAs(b);
  }

  public void start() {
    timer = vertx.setPeriodic(1, POLL_MS, t -> databases.keySet().forEach(this::poll));
  }

  public Future<Void> stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
    List<Future<Void>> closes = new ArrayList<>();
    // A poll in flight may wait on a silent database: a close would wait with it.
    connections.forEach((db, c) -> {
      if (busy.containsKey(db)) ConnectionReset.reset(c);
      else closes.add(c.close().otherwiseEmpty());
    });
    connections.clear();
    return Future.join(closes).mapEmpty();
  }

  /** Why a job's statements make no progress (the locks they wait for), or null when none of them waits. */
  public String reason(TableName source, TableName target) {
    List<Wait> mine = new ArrayList<>();
    for (Wait w : waits.getOrDefault("source", List.of())) if (concerns(w, source, false)) mine.add(w);
    boolean one = !databases.containsKey("source");
    for (Wait w : waits.getOrDefault("target", List.of())) if (concerns(w, target, true) || (one && concerns(w, source, false))) mine.add(w);
    return describe(mine);
  }

  /**
   * One wait a lock (the same relation, or row or transaction lock, on one database) out of one a waiting
   * session: the modes wanted, the sessions, the longest wait, and the blocker to name (not Sluice's own
   * if there is another, then the oldest transaction); the longest wait first.
   */
  static List<Wait> group(List<Wait> sessions) {
    Map<List<String>, List<Wait>> byLock = new LinkedHashMap<>();
    for (Wait w : sessions) {
      byLock.computeIfAbsent(Arrays.asList(w.database(), w.schema(), w.relation(), w.lockType()), k -> new ArrayList<>()).add(w);
    }
    List<Wait> out = new ArrayList<>();
    for (List<Wait> g : byLock.values()) {
      Wait first = g.get(0);
      String modes = String.join(", ", g.stream().map(Wait::mode).distinct().sorted().toList());
      double longest = g.stream().mapToDouble(Wait::seconds).max().orElse(0);
      Wait named = g.stream().filter(w -> w.blockerPid() != null).min(Comparator
          .comparing((Wait w) -> w.blockerApplication() != null && w.blockerApplication().startsWith("sluice-"))
          .thenComparing(w -> -(w.blockerTransactionSeconds() == null ? 0 : w.blockerTransactionSeconds()))).orElse(first);
      out.add(new Wait(first.database(), first.schema(), first.relation(), first.lockType(), modes, g.size(), longest,
          named.blockerPid(), named.blockerApplication(), named.blockerState(), named.blockerTransactionSeconds()));
    }
    out.sort(Comparator.comparingDouble(Wait::seconds).reversed());
    return List.copyOf(out);
  }

  /** Whether a wait holds up a job whose table on that database is {@code table}: its table, the ledger's, or a row lock. */
  static boolean concerns(Wait w, TableName table, boolean ledgerSide) {
    if (w.relation() == null) return true;
    if (ledgerSide && "sluice".equals(w.schema())) return true;
    return w.relation().equals(table.name()) && w.schema().equals(table.schema());
  }

  /**
   * The sentence for the operator, the longest wait first, e.g. "waiting for a lock: 2 Sluice statements on the target want
   * RowExclusiveLock on public.items (for 12 s), blocked by pid 4242 (psql, idle in transaction, transaction open 20 s)".
   */
  static String describe(List<Wait> waits) {
    if (waits.isEmpty()) return null;
    Wait w = waits.get(0); // the longest wait first
    String what = w.relation() == null ? "a " + w.lockType() + " lock" : w.mode() + " on " + w.schema() + "." + w.relation();
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, REASON + ": %d Sluice statement%s on the %s want%s %s (for %.0f s)",
        w.sessions(), w.sessions() == 1 ? "" : "s", w.database(), w.sessions() == 1 ? "s" : "", what, w.seconds()));
    if (w.blockerPid() != null) {
      out.append(", blocked by pid ").append(w.blockerPid());
      String app = w.blockerApplication() == null || w.blockerApplication().isEmpty() ? null : w.blockerApplication();
      List<String> about = new ArrayList<>();
      if (app != null) about.add(app);
      if (w.blockerState() != null) about.add(w.blockerState());
      if (w.blockerTransactionSeconds() != null) about.add(String.format(Locale.ROOT, "transaction open %.0f s", w.blockerTransactionSeconds()));
      if (!about.isEmpty()) out.append(" (").append(String.join(", ", about)).append(')');
    }
    if (waits.size() > 1) out.append("; and ").append(waits.size() - 1).append(" more lock").append(waits.size() == 2 ? "" : "s");
    return out.toString();
  }

  private void poll(String database) {
    if (busy.putIfAbsent(database, Boolean.TRUE) != null) return; // the last poll is still running
    // No answer at all for twice the timeout (the server cancels the query at the timeout): the database went
    // silent. The poll is given up, its session reset; the next one opens a fresh one.
    HealthMonitor.unlessSilent(timeout, connection(database).compose(c -> c.query(SQL).execute()), () -> {
      PgConnection c = connections.remove(database);
      if (c != null) ConnectionReset.reset(c);
      return new DatabaseStalled("the " + database + " stalled: no answer to the lock watch");
    }).onComplete(ar -> {
      busy.remove(database);
      if (ar.failed()) {
        // The breaker and the sensors report an unreachable database; a wait seen before is no longer known.
        waits.remove(database);
        PgConnection c = connections.remove(database);
        if (c != null) c.close();
        return;
      }
      List<Wait> found = new ArrayList<>();
      for (Row r : ar.result()) {
        found.add(new Wait(database, r.getString(0), r.getString(1), r.getString(2), r.getString(3), 1, r.getDouble(4),
            r.getInteger(5), r.getString(6), r.getString(7), r.getDouble(8)));
      }
      waits.put(database, group(found));
    });
  }

  private Future<PgConnection> connection(String database) {
    PgConnection c = connections.get(database);
    if (c != null) return Future.succeededFuture(c);
    return Databases.connect(vertx, databases.get(database), "sluice-sensor", new SessionLimits(timeout, timeout))
        .map(conn -> {
          // One opened for a poll that went silent meanwhile may come late: one connection a database is kept.
          PgConnection had = connections.putIfAbsent(database, conn);
          if (had == null) return conn;
          conn.close();
          return had;
        });
  }
}
