package dev.sluice.capture;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SessionLimits;
import dev.sluice.db.ConnectionReset;
import dev.sluice.db.Databases;
import dev.sluice.resilience.DatabaseStalled;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of the change applier's own pools, to the source or to the target (one of each an agent, shared
 * by its jobs' appliers), every statement on it timed; the final verification has a pair of its own,
 * and the ledger's pool ({@code sluice-ledger}) is one too ({@link #timedPool}). A network partition or a frozen host sends no
 * reset and no error, vertx-pg-client has no timeout, and its close waits for the server: a statement
 * in flight then waits for as long as the freeze lasts, for ever once the server gave up on the
 * session, and the applier with it (its batch, the WAL reader handing keys over, the job's final
 * pass, the agent's stop). Here a statement that has had no answer for the stall timeout
 * ({@code sessions.stallTimeoutMs}) fails with {@link DatabaseStalled}, and every connection of the
 * pool is reset at once ({@link ConnectionReset}): every statement in flight on the pool fails with
 * the same reason, and the pool opens fresh connections for the next ones. The applier applies the
 * batch again; its keys are still in the changelog, or still unconfirmed in the slot.
 *
 * <p>The time counts from the statement's start, its wait for a connection included (the pool is
 * sized for the appliers' statements at once, see {@link ChangeApplier#sourceConnections}); a write's
 * transaction counts as one statement. A statement that waits this long for a lock looks the same and
 * is ended too, as {@code sessions.statementTimeoutMs} would end it. A write ended so never lands
 * after the retry's: each write is a transaction, and its COMMIT is sent only once its rows are
 * written (and locked until it ends), so the retry's write of the same keys waits for it.
 */
public final class WatchedPool {
  private static final Logger log = LoggerFactory.getLogger(WatchedPool.class);
  private static final AtomicBoolean UNREACHABLE_SAID = new AtomicBoolean();
  /** How long after a reset a statement that fails with its connection closed is taken to have met it. */
  static final long RESET_BLAME_MS = 5_000;

  private final Vertx vertx;
  private final Pool pool;
  private final String owner;
  private final String side;
  private final long timeoutMs;
  /** What set the timeout, for the reason: {@code sessions.stallTimeoutMs 60000}. */
  private final String limit;
  private final Set<Channel> sockets;
  private final Set<Promise<?>> inFlight = ConcurrentHashMap.newKeySet();
  /** The last stall's reason and when the pool's connections were reset for it (nanoTime), for {@link #blame}. */
  private volatile String resetFor;
  private volatile long resetAt;

  private WatchedPool(Vertx vertx, Pool pool, String owner, String side, long timeoutMs, String limit, Set<Channel> sockets) {
    this.vertx = vertx;
    this.pool = pool;
    this.owner = owner;
    this.side = side;
    this.timeoutMs = timeoutMs;
    this.limit = limit;
    this.sockets = sockets;
  }

  /**
   * The appliers' pool to {@code side} ({@code source} or {@code target}, {@code db}): {@code size}
   * sessions at most; the pool and its sessions are named {@code sluice-applier-<side>} (the session
   * that holds a job's applier lock is {@code sluice-applier}).
   */
  public static WatchedPool open(Vertx vertx, DatabaseConfig db, String side, int size, SessionLimits limits) {
    return open(vertx, db, "applier", "sluice-applier-" + side, side, size, limits);
  }

  /**
   * A pool of {@code owner}'s ("applier", "final verification": the log's and the reason's word) to
   * {@code side}, its sessions named {@code name}.
   */
  public static WatchedPool open(Vertx vertx, DatabaseConfig db, String owner, String name, String side, int size, SessionLimits limits) {
    long ms = limits.stallTimeout().toMillis();
    return open(vertx, db, owner, name, side, size, limits, ms, "sessions.stallTimeoutMs " + ms);
  }

  /**
   * The agent's shared pool to {@code side}, its sessions named {@code name}: the copy's statements on
   * the row and server-side paths (a whole segment's {@code INSERT .. SELECT} is one), the planning
   * walk, capture's set-up, the replanner's and the outlook's reads. Such a statement may rightly run
   * for as long as {@code statement_timeout} lets it, so it counts as stalled only once it has had no
   * answer for {@code statementTimeoutMs + stallTimeoutMs}: a server that is there has ended it by
   * then (57014, which the copy answers by splitting the segment). With {@code statementTimeoutMs} 0
   * nothing bounds a statement and none is timed. Before, a segment on these paths whose database went
   * silent (a partition, a frozen host, a failover that sent no reset) waited for ever, its lease
   * renewed by the agent's heartbeat, so no other agent took it over either.
   */
  public static WatchedPool shared(Vertx vertx, DatabaseConfig db, String name, String side, int size, SessionLimits limits) {
    return shared(vertx, db, name, side, size, limits, "agent");
  }

  /** The same for {@code owner} ("command": a CLI command's pools, the log's and the reason's word). */
  public static WatchedPool shared(Vertx vertx, DatabaseConfig db, String name, String side, int size, SessionLimits limits, String owner) {
    long statement = limits.statementTimeout().toMillis();
    long ms = statement <= 0 ? 0 : statement + limits.stallTimeout().toMillis();
    return open(vertx, db, owner, name, side, size, limits, ms,
        "sessions.statementTimeoutMs + stallTimeoutMs, " + ms + " ms");
  }

  /**
   * The read API's pool to {@code side}: its sessions' {@code statement_timeout} is {@code timeoutMs}
   * (a live database ends a slow read then), and a read with no answer one second later fails as
   * stalled and resets the pool's connections (a silent one). A caller of the read API gets its 503
   * within about {@code timeoutMs} either way, instead of waiting as long as the database is gone.
   */
  public static WatchedPool reads(Vertx vertx, DatabaseConfig db, String side, int size, long timeoutMs, SessionLimits limits) {
    SessionLimits capped = new SessionLimits(Duration.ofMillis(timeoutMs), limits.idleInTransactionTimeout(), limits.stallTimeout(), 0);
    long ms = timeoutMs + 1000;
    return open(vertx, "read API", side, connected -> Databases.readPool(vertx, db, side, size, capped, connected), ms,
        "http.readTimeoutMs " + timeoutMs + " + 1 s");
  }

  private static WatchedPool open(Vertx vertx, DatabaseConfig db, String owner, String name, String side, int size,
      SessionLimits limits, long timeoutMs, String limit) {
    return open(vertx, owner, side, connected -> Databases.pool(vertx, db, name, name, size, limits, connected), timeoutMs, limit);
  }

  private static WatchedPool open(Vertx vertx, String owner, String side, Function<Handler<SqlConnection>, Pool> opener,
      long timeoutMs, String limit) {
    Set<Channel> sockets = ConcurrentHashMap.newKeySet();
    Pool pool = opener.apply(conn -> {
      Channel ch = ConnectionReset.channel(conn);
      if (ch != null) {
        sockets.add(ch);
        ch.closeFuture().addListener(f -> sockets.remove(ch));
      } else if (UNREACHABLE_SAID.compareAndSet(false, true)) {
        log.warn("the {} cannot reach its connections' sockets (a vertx-pg-client it does not know): a stalled statement fails, "
            + "its connection is not reset", owner);
      }
      conn.close(); // hands the connection to the pool
    });
    return new WatchedPool(vertx, pool, owner, side, timeoutMs, limit, sockets);
  }

  /** {@code pool} with no statement timed (the key syncs of tests and tools). */
  static WatchedPool unwatched(Pool pool) {
    return new WatchedPool(null, pool, "applier", "", 0, "", Set.of());
  }

  public Pool pool() {
    return pool;
  }

  /**
   * The pool as a {@link Pool} whose every {@code query(..)} and {@code preparedQuery(..)} execution is
   * {@link #timed} ({@code what}: "verifying", for the reason), for code written against the SQL client
   * (the final verification's fingerprints, comparisons and reads; the ledger). So is every statement on
   * a connection or in a transaction taken from it, one by one ({@link TimedQueries}), and its close
   * resets the connections first.
   */
  public Pool timedPool(String what) {
    return TimedQueries.pool(this, what);
  }

  /**
   * As {@link #timedPool}, but a statement is timed only from when it holds its connection: the wait
   * for one is bounded by the pool's own connection timeout instead (the read pools: {@link #reads}).
   * Statements must run on a connection taken from it ({@code withConnection}) to be timed so.
   */
  public Pool timedOnceHeld(String what) {
    return TimedQueries.heldOnly(this, what);
  }

  /** {@code source} or {@code target}. */
  String side() {
    return side;
  }

  /**
   * Runs {@code statement} ({@code what} it does, for the reason: "re-reading changed keys"), failing
   * it with {@link DatabaseStalled} when it has had no answer for the stall timeout; every
   * connection of the pool is then reset, and every statement then in flight on the pool fails with
   * the same reason (rather than with its connection closed, which says less).
   */
  <T> Future<T> timed(String what, Supplier<Future<T>> statement) {
    if (timeoutMs <= 0) return statement.get();
    Promise<T> outcome = Promise.promise();
    inFlight.add(outcome);
    outcome.future().onComplete(ar -> inFlight.remove(outcome));
    return run(what, statement, outcome, why -> {
      resetFor = why; // before the failures: their handlers may start statements that meet the reset
      resetAt = System.nanoTime();
      for (Promise<?> p : List.copyOf(inFlight)) p.tryFail(new DatabaseStalled(why));
      reset();
    });
  }

  /** The same for a statement on {@code conn}, a connection of the applier's own (its lock's): only it is reset after a stall. */
  <T> Future<T> timedOn(SqlConnection conn, String what, Supplier<Future<T>> statement) {
    if (timeoutMs <= 0) return statement.get();
    Promise<T> outcome = Promise.promise();
    return run(what, statement, outcome, why -> {
      outcome.tryFail(new DatabaseStalled(why));
      ConnectionReset.reset(conn);
    });
  }

  private <T> Future<T> run(String what, Supplier<Future<T>> statement, Promise<T> outcome, Consumer<String> stalled) {
    long start = System.nanoTime();
    long timer = vertx.setTimer(timeoutMs, id -> {
      if (!outcome.future().isComplete()) stalled.accept(reason(what, System.nanoTime() - start));
    });
    Future<T> f;
    try {
      f = statement.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) outcome.tryComplete(ar.result());
      else outcome.tryFail(blame(ar.cause()));
    });
    return outcome.future();
  }

  /**
   * A statement's failure, or the stall that caused it: a statement that started just as the pool's
   * connections were reset for a stall (another statement's) may have been handed one of them before
   * the pool saw it close, and fails with its connection closed, which says nothing of why. It
   * carries the stall's reason instead when the reset was under {@value #RESET_BLAME_MS} ms ago.
   */
  Throwable blame(Throwable cause) {
    String why = resetFor;
    if (why == null || !(cause instanceof ClosedConnectionException)) return cause;
    long since = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resetAt);
    return since < RESET_BLAME_MS ? new DatabaseStalled(why) : cause;
  }

  /** For the log and the API: the side, how long, on what, and what was done. */
  String reason(String what, long nanos) {
    return String.format(Locale.ROOT, "the %s stalled: no answer for %.1f s while %s (%s); "
        + "the %s's connections to it were reset", side, nanos / 1e9, what, limit, owner);
  }

  /** Resets every connection of the pool (returns at once; the pool drops them as they close). */
  void reset() {
    for (Channel ch : sockets) ConnectionReset.reset(ch);
  }

  /** Connections of the pool open now (that this pool could reach). */
  int open() {
    return (int) sockets.stream().filter(Channel::isOpen).count();
  }

  /** Closes the pool, its connections reset first: a frozen one would hold the close for as long as it stays silent. */
  public Future<Void> close() {
    reset();
    return pool.close();
  }
}
