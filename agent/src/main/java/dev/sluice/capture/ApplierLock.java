package dev.sluice.capture;

import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's applier lock, one applier a job among all agents: a session advisory lock on a connection
 * of the applier's own to the source, which also LISTENs for the trigger's NOTIFY (each wakes the
 * applier). Called on the applier's context.
 */
final class ApplierLock {
  private static final Logger log = LoggerFactory.getLogger(ChangeApplier.class);

  private final String job;
  private final CaptureSql sql;
  private final Supplier<Future<PgConnection>> listen;
  private final WatchedPool source;
  private final Runnable wake;
  private final BooleanSupplier stopping;
  private final Consumer<String> failed;
  private final Supplier<Future<Void>> claim;
  private PgConnection listener;
  private boolean connecting;
  private volatile boolean held;

  /**
   * {@code wake}: on taking the lock and at each NOTIFY; {@code failed}: why an attempt failed, null for one that found another
   * agent holding the lock (this agent applies nothing then); nothing on taking it (the applier's first batch says whether it
   * recovered);
   * {@code claim}: run once the lock is taken and before anything is applied (the applier's epoch).
   */
  ApplierLock(String job, CaptureSql sql, Supplier<Future<PgConnection>> listen, WatchedPool source, Runnable wake,
      BooleanSupplier stopping, Consumer<String> failed, Supplier<Future<Void>> claim) {
    this.claim = claim;
    this.job = job;
    this.sql = sql;
    this.listen = listen;
    this.source = source;
    this.wake = wake;
    this.stopping = stopping;
    this.failed = failed;
  }

  /** True while this agent holds the lock: its applier applies. */
  boolean held() {
    return held;
  }

  /**
   * Takes the job's applier lock on a dedicated connection and LISTENs; another agent may hold it.
   * One attempt at a time: the poll timer calls this every {@code pollMs}, and opening a connection
   * can take longer than that; a second attempt that lost the lock to the first would otherwise close
   * its own connection and, through the shared fields, make this applier forget the lock it holds
   * (the lock stays held by the open connection, so no agent would ever apply again).
   */
  void take() {
    if (stopping.getAsBoolean() || listener != null || connecting) return;
    connecting = true;
    AtomicBoolean closed = new AtomicBoolean();
    listen.get().compose(conn -> {
      conn.closeHandler(v -> {
        closed.set(true);
        // Only the connection that holds the lock says anything about leadership.
        if (listener != conn) return;
        listener = null;
        held = false;
        log.info("job {}: the applier's connection closed; it tries again to take the applier lock", job);
      });
      return lead(conn).compose(c -> c == null ? Future.succeededFuture((PgConnection) null) : claim.get().map(c))
          .onFailure(e -> conn.close());
    }).onComplete(ar -> {
      connecting = false;
      if (ar.failed()) {
        String why = ErrorClassifier.describe(ar.cause());
        failed.accept(why);
        log.warn("job {}: cannot open the applier's connection: {}", job, why);
        return;
      }
      PgConnection conn = ar.result();
      if (conn == null) failed.accept(null);
      if (conn == null || closed.get()) return; // another agent applies, or the lock went with the connection: try again
      if (stopping.getAsBoolean()) {
        conn.close();
        return;
      }
      listener = conn;
      held = true;
      log.info("job {}: applying captured changes from {}", job, sql.changelog());
      wake.run();
    });
  }

  /**
   * The connection once it holds the lock and LISTENs; null (and closed) when another agent holds the
   * lock. Reset when the source has not answered for the stall timeout: the next poll tries again.
   */
  private Future<PgConnection> lead(PgConnection conn) {
    return source.timedOn(conn, "taking the applier lock", () -> conn
        .preparedQuery("SELECT pg_try_advisory_lock(hashtext('sluice.applier.' || $1))").execute(Tuple.of(job)).compose(rows -> {
          if (!rows.iterator().next().getBoolean(0)) return conn.close().map((PgConnection) null);
          conn.notificationHandler(n -> wake.run());
          return conn.query("LISTEN " + sql.channel()).execute().map(conn);
        }));
  }

  /**
   * Counts the job's applier epoch up in the ledger (on the target), for an agent that just took the
   * lock, before it applies anything; its key syncs fence every write with it ({@link KeySync#fenceEpoch}).
   * The update waits for a write in flight of the previous applier (each holds the job's row FOR
   * SHARE), and that applier's later writes find the new epoch and write nothing: its batch re-read
   * the source before this one's, so it must not land after. Null when the job has no ledger row.
   */
  static Future<Long> claimEpoch(WatchedPool target, String job) {
    return target.timed("claiming the applier epoch", () -> target.pool()
            .preparedQuery("UPDATE sluice.jobs SET applier_epoch = applier_epoch + 1 WHERE name = $1 RETURNING applier_epoch")
            .execute(Tuple.of(job)))
        .map(rows -> {
          Long e = rows.size() == 0 ? null : rows.iterator().next().getLong(0);
          if (e != null) log.info("job {}: applier epoch {}", job, e);
          return e;
        });
  }

  /** Lets the lock go with its connection (reset if the source does not answer its close: a frozen one would hold the stop). */
  Future<Void> release() {
    PgConnection c = listener;
    listener = null;
    held = false;
    return c == null ? Future.succeededFuture() : source.timedOn(c, "closing the applier lock's connection", c::close).otherwiseEmpty();
  }
}
