package dev.sluice.testing;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Steps for tests written the Vert.x way ({@code VertxExtension}, {@code VertxTestContext}): each is a
 * future, so a test chains them with {@code compose} and never blocks an event loop. The blocking
 * counterparts ({@link Eventually}, {@code db.Await}) are for process-level tests.
 */
public final class Async {
  private static final long POLL_MS = 50;

  private Async() {}

  /** Runs blocking work (TestPg's JDBC statements) on a worker thread. */
  public static Future<Void> blocking(Vertx vertx, Runnable work) {
    return vertx.executeBlocking(() -> {
      work.run();
      return null;
    }, false);
  }

  /** Runs blocking work on a worker thread and gives its result. */
  public static <T> Future<T> blocking(Vertx vertx, Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }

  /** Asks {@code condition} every {@value #POLL_MS} ms until it is true; fails, naming {@code what}, after {@code limit}. */
  public static Future<Void> until(Vertx vertx, Duration limit, String what, Supplier<Future<Boolean>> condition) {
    Promise<Void> done = Promise.promise();
    poll(vertx, System.nanoTime() + limit.toNanos(), limit, what, condition, done);
    return done.future();
  }

  private static void poll(Vertx vertx, long end, Duration limit, String what, Supplier<Future<Boolean>> condition, Promise<Void> done) {
    condition.get().onComplete(ar -> {
      if (ar.succeeded() && Boolean.TRUE.equals(ar.result())) {
        done.complete();
      } else if (System.nanoTime() > end) {
        String last = ar.failed() ? " (last attempt failed: " + ar.cause() + ")" : "";
        done.fail(new AssertionError("timed out after " + limit.toMillis() + " ms waiting for " + what + last));
      } else {
        vertx.setTimer(POLL_MS, t -> poll(vertx, end, limit, what, condition, done));
      }
    });
  }

  /** Waits {@code millis} ms on a timer. */
  public static Future<Void> pause(Vertx vertx, long millis) {
    return vertx.timer(millis, TimeUnit.MILLISECONDS).mapEmpty();
  }

  /** The failure of {@code f}, expected to fail; fails itself, naming {@code what}, if {@code f} succeeded. */
  public static Future<Throwable> failure(Future<?> f, String what) {
    return f.transform(ar -> ar.failed() ? Future.succeededFuture(ar.cause())
        : Future.failedFuture(new AssertionError(what + " was expected to fail; it succeeded with " + ar.result())));
  }

  /**
   * Runs {@code body} while a blocking JDBC session ({@code open}) has run {@code sql} in a
   * transaction left open (a writer's fence, an uncommitted update) that the body commits
   * ({@link #commit}) when the test says so. Each JDBC step runs on a worker; the session is closed
   * after the body whatever happened (uncommitted, it rolls back and lets waiting statements go).
   */
  public static <T> Future<T> holding(Vertx vertx, Callable<Connection> open, String sql, Function<Connection, Future<T>> body) {
    return blocking(vertx, () -> {
      Connection session = open.call();
      try {
        session.setAutoCommit(false);
        try (Statement st = session.createStatement()) {
          st.execute(sql);
        }
        return session;
      } catch (SQLException | RuntimeException e) {
        session.close();
        throw e;
      }
    }).compose(session -> Future.succeededFuture(session).compose(body).eventually(() -> blocking(vertx, () -> {
      session.close();
      return null;
    })));
  }

  /** Commits a session's transaction, on a worker. */
  public static Future<Void> commit(Vertx vertx, Connection session) {
    return blocking(vertx, () -> {
      session.commit();
      return null;
    });
  }

  /** The first column of the first row as a number (null: no row or NULL). */
  public static Future<Long> scalar(SqlClient db, String sql) {
    return db.query(sql).execute().map(rows -> {
      if (rows.size() == 0) return null;
      Object v = rows.iterator().next().getValue(0);
      return v == null ? null : ((Number) v).longValue();
    });
  }

  /** The first column of the first row as text (null: no row or NULL). */
  public static Future<String> text(SqlClient db, String sql) {
    return db.query(sql).execute().map(rows -> {
      if (rows.size() == 0) return null;
      Object v = rows.iterator().next().getValue(0);
      return v == null ? null : String.valueOf(v);
    });
  }

  /** Runs statements one after the other. */
  public static Future<Void> exec(SqlClient db, String... sql) {
    Future<Void> chain = Future.succeededFuture();
    for (String s : sql) chain = chain.compose(v -> db.query(s).execute().mapEmpty());
    return chain;
  }
}
