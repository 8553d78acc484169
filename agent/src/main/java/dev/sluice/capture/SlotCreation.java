package dev.sluice.capture;

import dev.sluice.db.ConnectionSettings;
import dev.sluice.db.Databases;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a job's logical replication slot is created. PostgreSQL's creation waits until every
 * transaction with a transaction id that was running on the source cluster when it began (in any
 * database, prepared ones too) has ended: only then is the slot's decoding consistent. Behind a
 * transaction that stays open (a batch job, an application's session left idle in transaction), the
 * creation ran into {@code sessions.statementTimeoutMs} and the agent's start failed with a bare
 * "canceling statement due to statement timeout", however often it was restarted. Now it runs on a
 * connection of its own with no statement timeout, and while it waits a warning names the
 * transactions it waits for, every {@link #REPORT_EVERY}.
 */
public final class SlotCreation {
  private static final Logger log = LoggerFactory.getLogger(SlotCreation.class);
  static final Duration FIRST_REPORT = Duration.ofSeconds(5);
  static final Duration REPORT_EVERY = Duration.ofSeconds(30);

  private SlotCreation() {}

  /** On one of {@code source}'s connections, as any statement (tests, tools). */
  static Function<String, Future<Void>> plain(Pool source) {
    return name -> source.preparedQuery("SELECT pg_create_logical_replication_slot($1, 'pgoutput')").execute(Tuple.of(name)).mapEmpty();
  }

  /**
   * On a connection of its own to the source ({@code settings}), with no statement timeout, the
   * transactions it waits for reported through {@code source} while it waits.
   */
  public static Function<String, Future<Void>> patient(Vertx vertx, ConnectionSettings settings, Pool source, String job) {
    return name -> Databases.connect(vertx, settings).compose(conn -> conn.query("SET statement_timeout = 0").execute()
        .compose(v -> conn.query("SELECT pg_backend_pid()").execute())
        .compose(rows -> {
          int pid = rows.iterator().next().getInteger(0);
          long started = System.nanoTime();
          long[] timer = {-1};
          timer[0] = vertx.setTimer(FIRST_REPORT.toMillis(), t -> report(vertx, source, job, name, pid, started, timer));
          return conn.preparedQuery("SELECT pg_create_logical_replication_slot($1, 'pgoutput')").execute(Tuple.of(name))
              .onComplete(x -> {
                synchronized (timer) {
                  vertx.cancelTimer(timer[0]);
                  timer[0] = -2;
                }
              });
        })
        .<Void>mapEmpty()
        .eventually(() -> conn.close()));
  }

  private static void report(Vertx vertx, Pool source, String job, String slot, int pid, long started, long[] timer) {
    waitingFor(source, pid).onComplete(ar -> {
      synchronized (timer) {
        if (timer[0] == -2) return; // created meanwhile
        long s = (System.nanoTime() - started) / 1_000_000_000L;
        log.warn("job {}: creating replication slot {} has waited {} s for the transactions running on the source cluster when it "
            + "began to end (its decoding is consistent only after them): {}; the job starts once they have ended", job, slot, s,
            ar.succeeded() ? ar.result() : "they could not be read: " + ErrorClassifier.describe(ar.cause()));
        timer[0] = vertx.setTimer(REPORT_EVERY.toMillis(), t -> report(vertx, source, job, slot, pid, started, timer));
      }
    });
  }

  /** The transactions the creation on backend {@code pid} waits for, as a sentence. */
  static Future<String> waitingFor(Pool source, int pid) {
    return source.preparedQuery("SELECT coalesce(string_agg(w, '; '), 'none this role can see (grant it pg_monitor to see "
            + "every session)') FROM (SELECT format('pid %s (%s, %s, database %s, transaction open for %s)', a.pid, "
            + "coalesce(nullif(a.application_name, ''), 'no application name'), coalesce(a.state, 'state not visible'), a.datname, "
            + "date_trunc('second', now() - a.xact_start)) AS w FROM pg_stat_activity a WHERE a.backend_xid IS NOT NULL AND a.pid <> $1 "
            + "AND a.xact_start <= (SELECT query_start FROM pg_stat_activity WHERE pid = $1) "
            + "UNION ALL SELECT format('prepared transaction %L (prepared %s ago, database %s)', gid, date_trunc('second', now() - prepared), "
            + "database) FROM pg_prepared_xacts) x")
        .execute(Tuple.of(pid)).map(rows -> rows.iterator().next().getString(0));
  }
}
