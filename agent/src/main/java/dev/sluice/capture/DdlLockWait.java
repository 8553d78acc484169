package dev.sluice.capture;

import dev.sluice.resilience.Backoff;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sluice's DDL on the source table (capture triggers in, and out with their function) never makes the
 * table's users queue behind it. Such DDL needs a strong lock on the table ({@code CREATE TRIGGER}:
 * SHARE ROW EXCLUSIVE, which every writer conflicts with; dropping a trigger: ACCESS EXCLUSIVE, which
 * every reader conflicts with too). Waiting for it behind a long transaction (a batch job's, a session
 * left idle in transaction, an anti-wraparound vacuum) put every later statement on the table in the
 * queue behind the DDL: the busiest table stopped for as long as that transaction lasted, the outage
 * online schema change tools are known for. Here each attempt waits at most the server's
 * {@code deadlock_timeout} plus {@link #LOCK_MARGIN}
 * ({@code SET LOCAL lock_timeout}), then gives up the queue, says who holds the lock, and tries again
 * after a backoff with jitter, for up to {@link #PATIENCE}; then it fails with the holders named.
 */
public final class DdlLockWait {
  private static final Logger log = LoggerFactory.getLogger(DdlLockWait.class);
  /**
   * How much longer than the server's {@code deadlock_timeout} (1 s by default) one attempt waits in the
   * table's lock queue: at most that long do the table's users wait behind it. Past {@code deadlock_timeout}
   * because that is when PostgreSQL cancels an autovacuum in the way (not one preventing wraparound):
   * a lock timeout no longer than it gives up first, and the autovacuum is never cancelled for it.
   */
  public static final Duration LOCK_MARGIN = Duration.ofSeconds(1);
  /** How long in all before giving up. */
  public static final Duration PATIENCE = Duration.ofMinutes(10);
  private static final Backoff BACKOFF = new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(30), () -> 0.5 + ThreadLocalRandom.current().nextDouble() / 2);

  /** The table locks a writer (an install's SHARE ROW EXCLUSIVE waits for these) or anyone (a drop's ACCESS EXCLUSIVE) holds. */
  public enum Blocks {
    WRITERS("'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'"),
    /** What a SHARE UPDATE EXCLUSIVE request ({@code CREATE PUBLICATION .. FOR TABLE}) waits for: a VACUUM, ANALYZE, index build, DDL. */
    MAINTENANCE("'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'"),
    EVERYONE("'AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', "
        + "'ExclusiveLock', 'AccessExclusiveLock'");

    final String modes;

    Blocks(String modes) {
      this.modes = modes;
    }
  }

  private final Vertx vertx;
  private final Pool source;
  private final Duration patience;
  private final LongSupplier nanos;

  public DdlLockWait(Vertx vertx, Pool source) {
    this(vertx, source, PATIENCE, System::nanoTime);
  }

  DdlLockWait(Vertx vertx, Pool source, Duration patience, LongSupplier nanos) {
    this.vertx = vertx;
    this.source = source;
    this.patience = patience;
    this.nanos = nanos;
  }

  /** The statement each attempt's transaction starts with. */
  public static String setLockTimeout() {
    return "SELECT set_config('lock_timeout', (SELECT (setting::bigint + " + LOCK_MARGIN.toMillis()
        + ")::text FROM pg_settings WHERE name = 'deadlock_timeout'), true)";
  }

  /** True for PostgreSQL's "could not obtain lock" (a lock_timeout that ran out). */
  public static boolean lockNotAvailable(Throwable e) {
    return e instanceof PgException pg && "55P03".equals(pg.getSqlState());
  }

  /**
   * Runs {@code attempt} (given the lock timeout statement to start its transaction with) until it does
   * not fail for want of a lock; {@code what} it does ("job orders: installing change capture"),
   * {@code tables}: a query, given {@code params}, for the oids of the tables it locks, to name who holds them.
   */
  public <T> Future<T> run(String what, String tables, Tuple params, Blocks blocks, Function<String, Future<T>> attempt) {
    Promise<T> done = Promise.promise();
    attempt(what, tables, params, blocks, attempt, 1, nanos.getAsLong(), done);
    return done.future();
  }

  private <T> void attempt(String what, String tables, Tuple params, Blocks blocks, Function<String, Future<T>> attempt, int n,
      long start, Promise<T> done) {
    attempt.apply(setLockTimeout()).onComplete(ar -> {
      if (ar.succeeded() || !lockNotAvailable(ar.cause())) {
        done.handle(ar);
        return;
      }
      holders(tables, params, blocks).onComplete(h -> {
        String who = h.succeeded() ? h.result() : "the holders could not be read: " + ErrorClassifier.describe(h.cause());
        long waited = nanos.getAsLong() - start;
        long delay = BACKOFF.delayMs(n);
        if (waited + delay * 1_000_000L > patience.toNanos()) {
          done.fail(new IllegalStateException(String.format(Locale.ROOT, "%s: no lock on the source table in %d attempts over %s "
              + "(each gave up after deadlock_timeout + %d ms so the table's users did not queue behind it); held by %s. End that transaction, "
              + "or start again later", what, n, minutes(waited), LOCK_MARGIN.toMillis(), who)));
          return;
        }
        // A first miss is often a holder about to finish: a warning from the second on. (An autovacuum in the way is
        // cancelled by the server at deadlock_timeout, before the attempt gives up; one preventing wraparound is not.)
        String line = "{}: the source table's lock is held by {}; gave up waiting after deadlock_timeout + {} ms so the table's users do not queue "
            + "behind Sluice's DDL; trying again in {} s (attempt {}, for up to {})";
        Object[] args = {what, who, LOCK_MARGIN.toMillis(), String.format(Locale.ROOT, "%.1f", delay / 1000.0), n + 1, minutes(patience.toNanos())};
        if (n == 1) log.info(line, args);
        else log.warn(line, args);
        vertx.setTimer(Math.max(1, delay), t -> attempt(what, tables, params, blocks, attempt, n + 1, start, done));
      });
    });
  }

  private static String minutes(long nanos) {
    long s = nanos / 1_000_000_000L;
    return s < 120 ? s + " s" : (s / 60) + " min";
  }

  /** Who holds a lock on the tables that the DDL waits for: "pid 4242 (psql, idle in transaction, transaction open for 00:05:12)". */
  Future<String> holders(String tables, Tuple params, Blocks blocks) {
    String sql = "SELECT coalesce(string_agg(format('pid %s (%s, %s%s)', a.pid, coalesce(nullif(a.application_name, ''), "
        + "CASE WHEN a.backend_type <> 'client backend' THEN a.backend_type || ': ' || left(a.query, 80) END, 'no application name'), "
        + "coalesce(a.state, 'state not visible to this role'), coalesce(', transaction open for ' || date_trunc('second', now() - a.xact_start)::text, '')), "
        + "'; ' ORDER BY a.xact_start), 'sessions this role cannot see (grant it pg_monitor) or that have just let go') "
        + "FROM pg_stat_activity a WHERE a.pid <> pg_backend_pid() AND a.pid IN (SELECT l.pid FROM pg_locks l WHERE l.granted "
        + "AND l.locktype = 'relation' AND l.mode IN (" + blocks.modes + ") AND l.relation IN (" + tables + "))";
    return source.preparedQuery(sql).execute(params).map(rows -> rows.iterator().next().getString(0));
  }

  /** The oids query for one table, by name ($1). */
  public static String table() {
    return "SELECT $1::regclass::oid";
  }

  /** The oids query for the tables a job's capture triggers are on ($1: their names). */
  public static String triggerTables() {
    return "SELECT tgrelid FROM pg_trigger WHERE tgname = ANY($1)";
  }

  /** The names of a job's capture triggers, for {@link #triggerTables()}. */
  public static Tuple triggerNames(String job) {
    String t = CaptureSql.trigger(job);
    return Tuple.of(List.of(t + "_ins", t + "_upd", t + "_del").toArray(new String[0]));
  }
}
