package dev.sluice.capture;

import dev.sluice.config.Sql;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.function.Supplier;

/**
 * A job's publication and logical replication slot on the source, both named {@code sluice_JOB}:
 * created before the job's first copy (the publication first: the slot's decoding looks it up), kept
 * across restarts (a restarted agent resumes from the slot's confirmed position), dropped by
 * rollback, cleanup, or when the slot retains more WAL than the job allows.
 *
 * <p>The publication names only the job's table ({@code publish_via_partition_root}, so a
 * partitioned table's changes arrive under its own name). Slot names are cluster-wide: a slot of
 * this name for another database or plugin is refused, never taken over.
 */
public final class LogicalSlot {
  /** The prefix of the heartbeat messages written into the WAL ({@code pg_logical_emit_message}). */
  public static final String HEARTBEAT_PREFIX = "sluice.heartbeat";

  private LogicalSlot() {}

  /** Slot and publication name; job names are [a-z][a-z0-9_]{0,39}, so this is a valid slot name. */
  public static String name(String job) {
    return "sluice_" + job;
  }

  /** What the source says about a job's slot (null fields when there is none). */
  public record Status(boolean exists, String database, String plugin, Integer activePid, String confirmedLsn, Long retainedBytes,
      String walStatus, boolean publication, boolean publishesTable) {
    /** True when the server invalidated the slot (PostgreSQL's {@code max_slot_wal_keep_size}). */
    public boolean lost() {
      return "lost".equals(walStatus);
    }
  }

  public static Future<Status> status(SqlClient source, String job, String tableSql) {
    return source.preparedQuery("SELECT s.slot_name IS NOT NULL, s.database::text, s.plugin::text, s.active_pid, "
            + "s.confirmed_flush_lsn::text, pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint, s.wal_status, "
            + "EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1), "
            + "EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid "
            + "WHERE p.pubname = $1 AND pr.prrelid = to_regclass($2)) "
            + "FROM (SELECT 1) one LEFT JOIN pg_replication_slots s ON s.slot_name = $1")
        .execute(Tuple.of(name(job), tableSql))
        .map(rows -> {
          Row r = rows.iterator().next();
          return new Status(r.getBoolean(0), r.getString(1), r.getString(2), r.getInteger(3), r.getString(4), r.getLong(5),
              r.getString(6), r.getBoolean(7), r.getBoolean(8));
        });
  }

  /**
   * Creates the publication (when missing) and then the slot (when missing); idempotent, and safe for
   * agents starting together (an advisory lock orders the publication; a slot created meanwhile by
   * another agent counts as created). Completes with true when this call created the slot. The slot's
   * creation waits until every transaction running on the source cluster has ended (that is when its
   * decoding becomes consistent), so it can take as long as the longest one.
   */
  public static Future<Boolean> ensure(Pool source, String job, String tableSql) {
    return ensure(source, job, tableSql, SlotCreation.plain(source));
  }

  /** As above, the slot created by {@code create} (given its name): {@link SlotCreation#patient} for an agent. */
  public static Future<Boolean> ensure(Pool source, String job, String tableSql, java.util.function.Function<String, Future<Void>> create) {
    return ensure(source, job, tableSql, () -> publication(source, job, tableSql, null), create);
  }

  /**
   * As above for an agent: the publication's {@code CREATE PUBLICATION .. FOR TABLE} takes the table's
   * SHARE UPDATE EXCLUSIVE lock, which a VACUUM, ANALYZE or index build on it holds for as long as it
   * runs; so it waits deadlock_timeout + 1 s at most an attempt, names the holder and tries again ({@link DdlLockWait}),
   * rather than queueing (and holding up the maintenance queued after it) until the statement timeout.
   */
  public static Future<Boolean> ensure(Vertx vertx, Pool source, String job, String tableSql,
      java.util.function.Function<String, Future<Void>> create) {
    return ensure(source, job, tableSql, () -> new DdlLockWait(vertx, source).run("job " + job + ": creating publication " + name(job),
        DdlLockWait.table(), Tuple.of(tableSql), DdlLockWait.Blocks.MAINTENANCE, timeout -> publication(source, job, tableSql, timeout)), create);
  }

  /** The publication ({@code publication} makes it when missing), then the slot; a call that has to start over makes both again. */
  private static Future<Boolean> ensure(Pool source, String job, String tableSql, Supplier<Future<Void>> publication,
      java.util.function.Function<String, Future<Void>> create) {
    return publication.get().compose(v -> slot(source, job, tableSql, publication, create));
  }

  /** The publication when missing; {@code lockTimeout}: the statement that bounds the wait for the table's lock (null: none). */
  private static Future<Void> publication(Pool source, String job, String tableSql, String lockTimeout) {
    String name = name(job);
    return source.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtext('sluice.capture.' || $1))")
        .execute(Tuple.of(job))
        .compose(v -> conn.preparedQuery("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)").execute(Tuple.of(name)))
        .compose(rows -> rows.iterator().next().getBoolean(0) ? Future.<Void>succeededFuture()
            : (lockTimeout == null ? Future.<Void>succeededFuture() : conn.query(lockTimeout).execute().<Void>mapEmpty())
                .compose(x -> conn.query("CREATE PUBLICATION " + Sql.ident(name) + " FOR TABLE " + tableSql
                    + " WITH (publish = 'insert, update, delete, truncate', publish_via_partition_root = true)").execute().mapEmpty())));
  }

  /** The slot when missing; {@code publication}: as for {@link #ensure(Pool, String, String, Supplier, java.util.function.Function)}. */
  private static Future<Boolean> slot(Pool source, String job, String tableSql, Supplier<Future<Void>> publication,
      java.util.function.Function<String, Future<Void>> create) {
    String name = name(job);
    return status(source, job, tableSql)
        .compose(st -> {
          if (!st.publishesTable()) {
            return Future.failedFuture(new IllegalStateException("publication " + name + " exists on the source but does not publish "
                + tableSql + "; drop it (DROP PUBLICATION " + name + ") or add the table (ALTER PUBLICATION " + name + " ADD TABLE "
                + tableSql + ")"));
          }
          if (st.exists()) return another(source, job, tableSql, st, publication, create);
          return create.apply(name)
              .map(true)
              .recover(e -> e instanceof io.vertx.pgclient.PgException pg && "42710".equals(pg.getSqlState())
                  ? status(source, job, tableSql).compose(now -> another(source, job, tableSql, now, publication, create)) // another agent creates it meanwhile
                  : Future.failedFuture(e));
        });
  }

  /**
   * A slot this call did not create: once another agent's creation of it has finished, it is this
   * job's if it is for this database with pgoutput. A slot shows up as soon as its creation starts,
   * without a plugin at first and without a confirmed position until its decoding is consistent
   * (which waits for the source's running transactions): an agent that took it as created then could
   * claim a segment whose snapshot precedes the slot's start, and lose that segment's changes in
   * between. So a slot being created (held by its creator, no confirmed position yet) is waited for;
   * one whose creation failed is gone, and this call starts over.
   */
  private static Future<Boolean> another(Pool source, String job, String tableSql, Status st, Supplier<Future<Void>> publication,
      java.util.function.Function<String, Future<Void>> create) {
    if (!st.exists()) return ensure(source, job, tableSql, publication, create);
    boolean creating = st.confirmedLsn() == null && st.activePid() != null && st.database() != null;
    if (!creating) return checkOurs(st, name(job), source).map(false);
    return source.query("SELECT pg_sleep(0.1)").execute()
        .compose(v -> status(source, job, tableSql))
        .compose(now -> another(source, job, tableSql, now, publication, create));
  }

  private static Future<Void> checkOurs(Status st, String name, SqlClient source) {
    return source.query("SELECT current_database()::text").execute().compose(rows -> {
      String db = rows.iterator().next().getString(0);
      if (!db.equals(st.database()) || !"pgoutput".equals(st.plugin())) {
        return Future.failedFuture(new IllegalStateException("replication slot " + name + " already exists for database "
            + st.database() + " with plugin " + st.plugin() + ": another deployment uses this job name on the same PostgreSQL "
            + "cluster; rename the job (slot names are cluster-wide)"));
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Drops the slot (ending the session that reads it, if any: a slot in use cannot be dropped, and
   * the ended reader needs a moment to let go of it) and then the publication, when the role may
   * (see {@link #foreignPublication}); idempotent. A slot of
   * this name for another database is left alone. One statement each, so any client can run it.
   */
  public static Future<Void> drop(SqlClient source, String job) {
    String name = Sql.literal(name(job));
    return source.query("DO $sluice$ DECLARE tries int := 0; BEGIN LOOP "
            + "PERFORM pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = " + name
            + " AND database = current_database() AND active_pid IS NOT NULL; "
            + "BEGIN PERFORM pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = " + name
            + " AND database = current_database(); EXIT; "
            + "EXCEPTION WHEN object_in_use THEN tries := tries + 1; IF tries > 200 THEN RAISE; END IF; PERFORM pg_sleep(0.05); END; "
            + "END LOOP; END $sluice$").execute()
        // Only a publication the role may drop: one the table's owner (or a superuser) made for it, as validate
        // suggests when the role cannot, stays (without its slot it holds no WAL); foreignPublication says so.
        .compose(v -> source.query("DO $sluice$ BEGIN IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = " + name
            + " AND pg_has_role(pubowner, 'USAGE')) THEN DROP PUBLICATION " + Sql.ident(name(job)) + "; END IF; END $sluice$").execute())
        .mapEmpty();
  }

  /**
   * The job's publication when {@link #drop} had to leave it (another role owns it), said as what its
   * owner runs; null when there is none.
   */
  public static Future<String> foreignPublication(SqlClient source, String job) {
    return source.preparedQuery("SELECT pubowner::regrole::text FROM pg_publication WHERE pubname = $1 AND NOT pg_has_role(pubowner, 'USAGE')")
        .execute(io.vertx.sqlclient.Tuple.of(name(job)))
        .map(rows -> rows.size() == 0 ? null : "publication " + name(job) + " belongs to role " + rows.iterator().next().getString(0)
            + ", so it was left on the source (without its slot it holds no WAL): its owner drops it with DROP PUBLICATION "
            + Sql.ident(name(job)));
  }

  /**
   * Completes once the job's slot has been read past every change committed before this call: the
   * WAL's insert position is taken, a heartbeat message is written after it (so an idle stream
   * carries a position to confirm), and the slot's confirmed position is polled until it reaches the
   * first. The reader confirms a position only after recording the keys of every transaction before
   * it, so then every such change has its changelog entry. Fails after {@code timeout}, or when the
   * slot is gone.
   *
   * <p>{@code localConfirmed}: the position this agent's own reader has confirmed, or -1 when another
   * agent reads the slot. The server learns a confirmed position only from the reader's next status
   * message (up to a second later), so with a local reader its own figure is asked first, every 10 ms;
   * the server's is asked every 100 ms in any case.
   */
  public static Future<Void> caughtUp(io.vertx.core.Vertx vertx, SqlClient source, String job, java.time.Duration timeout,
      java.util.function.LongSupplier nanos, java.util.function.LongSupplier localConfirmed) {
    long deadline = nanos.getAsLong() + timeout.toNanos();
    return source.query("SELECT pg_current_wal_insert_lsn()::text").execute()
        .compose(rows -> {
          String lsn = rows.iterator().next().getString(0);
          return source.preparedQuery("SELECT pg_logical_emit_message(false, $1, $2)").execute(Tuple.of(HEARTBEAT_PREFIX, job))
              .compose(v -> new ConfirmedPoll(vertx, source, job, lsn, org.postgresql.replication.LogSequenceNumber.valueOf(lsn).asLong(),
                  deadline, nanos, localConfirmed).next(0));
        });
  }

  /** Polls until the slot is confirmed at or past {@code lsn}: this agent's reader first, the server every 100 ms. */
  private record ConfirmedPoll(io.vertx.core.Vertx vertx, SqlClient source, String job, String lsn, long lsnValue, long deadline,
      java.util.function.LongSupplier nanos, java.util.function.LongSupplier localConfirmed) {
    private static final long SERVER_EVERY_NANOS = 100_000_000L;

    Future<Void> next(long serverAskedAt) {
      long now = nanos.getAsLong();
      long local = localConfirmed.getAsLong();
      if (local >= 0 && local >= lsnValue) return Future.succeededFuture();
      if (serverAskedAt != 0 && now - serverAskedAt < SERVER_EVERY_NANOS) return later(10, serverAskedAt);
      return source.preparedQuery("SELECT confirmed_flush_lsn >= $2::pg_lsn FROM pg_replication_slots WHERE slot_name = $1 "
              + "AND database = current_database()")
          .execute(Tuple.of(name(job), lsn))
          .compose(rows -> {
            if (rows.size() == 0) return Future.failedFuture(new IllegalStateException("replication slot " + name(job) + " is gone"));
            if (Boolean.TRUE.equals(rows.iterator().next().getBoolean(0))) return Future.succeededFuture();
            if (nanos.getAsLong() > deadline) {
              return Future.failedFuture(new IllegalStateException("replication slot " + name(job) + " has not been read up to " + lsn
                  + " yet (is its reader running?)"));
            }
            return later(localConfirmed.getAsLong() >= 0 ? 10 : 100, now);
          });
    }

    private Future<Void> later(long ms, long serverAskedAt) {
      io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
      vertx.setTimer(ms, t -> next(serverAskedAt).onComplete(p));
      return p.future();
    }
  }

  /** True when the job's slot or publication is on the source. */
  public static Future<Boolean> present(SqlClient source, String job) {
    return source.preparedQuery("SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()) "
            + "OR EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)")
        .execute(Tuple.of(name(job))).map(rows -> rows.iterator().next().getBoolean(0));
  }
}
