package dev.sluice.capture;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.function.Function;

/**
 * A {@link WatchedPool}'s pool as a plain {@link Pool} whose every wait on the database is timed
 * ({@link WatchedPool#timed}), one statement at a time: the executions of {@code query(sql)} and
 * {@code preparedQuery(sql)} (and of the queries their {@code collecting} and {@code mapping} make),
 * and, on a connection taken from it ({@code getConnection}, {@code withConnection},
 * {@code withTransaction}), its wait for that connection, its queries, {@code begin}, {@code prepare},
 * and the transaction's {@code commit} and {@code rollback}. A transaction is timed statement by
 * statement, not whole: a long one of short statements is not a stall. Its {@code close} resets the
 * pool's connections first ({@link WatchedPool#close}). Everything else goes to the pool as it is
 * ({@code withTransaction} with a {@code TransactionPropagation} too: untimed). A dynamic proxy:
 * vertx-sql-client's interfaces are wide and grow from release to release, and only their futures
 * matter here; {@code withConnection} and {@code withTransaction} are the interface's own default
 * methods, run on the proxy, so they take their connection from it.
 */
final class TimedQueries {
  /** The interfaces whose objects are handed out timed in turn. */
  private static final List<Class<?>> TIMED = List.of(SqlConnection.class, Transaction.class, PreparedStatement.class,
      PreparedQuery.class, Query.class);

  private TimedQueries() {}

  /** {@code what}: what the statements do, for a stall's reason ("verifying"). */
  static Pool pool(WatchedPool watched, String what) {
    return proxy(Pool.class, watched.pool(), watched, what, true);
  }

  /**
   * The same, but the wait for a connection is not timed ({@code getConnection}, and so
   * {@code withConnection}): the pool's own connection timeout bounds it. For a pool whose callers
   * outnumber its connections (the read API's): a burst queued for a connection is not a stall.
   */
  static Pool heldOnly(WatchedPool watched, String what) {
    return proxy(Pool.class, watched.pool(), watched, what, false);
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, Object target, WatchedPool watched, String what, boolean waits) {
    InvocationHandler h = (self, m, args) -> {
      if (m.getDeclaringClass() == Object.class) return call(target, m, args);
      String name = m.getName();
      if (target instanceof Pool) {
        if (name.equals("close") && m.getParameterCount() == 0) return watched.close();
        if (m.isDefault() && (name.equals("withConnection") || name.equals("withTransaction"))
            && m.getParameterCount() == 1 && m.getParameterTypes()[0] == Function.class) {
          return InvocationHandler.invokeDefault(self, m, args);
        }
      }
      boolean untimed = target instanceof Pool ? !(waits && name.equals("getConnection"))
          : (target instanceof SqlConnection && name.equals("close")) || (target instanceof Transaction && name.equals("completion"));
      Class<?> r = m.getReturnType();
      if (Future.class.isAssignableFrom(r) && !untimed) return timed(target, m, args, watched, what, waits);
      Object out = call(target, m, args);
      if (!waits && target instanceof Pool && out instanceof Future<?> f) {
        // The connection itself, once handed over: its statements are timed.
        return f.map(v -> v instanceof SqlConnection c ? proxy(SqlConnection.class, c, watched, what, false) : v);
      }
      return out == null || !TIMED.contains(r) ? out : proxy(r, out, watched, what, waits);
    };
    return (T) Proxy.newProxyInstance(TimedQueries.class.getClassLoader(), new Class<?>[] {type}, h);
  }

  /**
   * The call's future, timed; what it gives is handed out timed too (a connection, a transaction, a
   * prepared statement). A connection the pool hands over only after the wait for it stalled goes back.
   */
  @SuppressWarnings("unchecked")
  private static Future<Object> timed(Object target, Method m, Object[] args, WatchedPool watched, String what, boolean waits) {
    Future<Object>[] real = new Future[1];
    Future<Object> outcome = watched.timed(what, () -> {
      try {
        real[0] = (Future<Object>) call(target, m, args);
      } catch (Throwable e) {
        real[0] = Future.failedFuture(e);
      }
      return real[0];
    });
    real[0].onSuccess(v -> {
      if (outcome.failed() && v instanceof SqlConnection late) late.close();
    });
    return outcome.map(v -> {
      for (Class<?> type : TIMED) if (type.isInstance(v)) return proxy(type, v, watched, what, waits);
      return v;
    });
  }

  private static Object call(Object target, Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
