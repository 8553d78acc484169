package dev.sluice.capture;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Query;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.function.Supplier;

/**
 * A {@link Pool} whose queries' executions go through a {@link Timer}: {@code query(sql)} and
 * {@code preparedQuery(sql)} give queries whose {@code execute} and {@code executeBatch} futures the
 * timer runs, and so do the queries their {@code collecting} and {@code mapping} make. Everything else
 * goes to the pool as it is. A dynamic proxy: vertx-sql-client's query interfaces are wide and grow
 * from release to release, and only their futures matter here.
 */
final class TimedQueries {
  /** Runs a statement, failing it when it has had no answer for too long ({@link WatchedPool#timed}). */
  interface Timer {
    <T> Future<T> timed(Supplier<Future<T>> statement);
  }

  private TimedQueries() {}

  static Pool pool(Pool pool, Timer timer) {
    return proxy(Pool.class, pool, timer);
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, Object target, Timer timer) {
    InvocationHandler h = (self, m, args) -> {
      if (m.getDeclaringClass() == Object.class) return call(target, m, args);
      Class<?> r = m.getReturnType();
      if (Future.class.isAssignableFrom(r) && target instanceof Query<?>) {
        return timer.timed(() -> {
          try {
            return (Future<Object>) call(target, m, args);
          } catch (Throwable e) {
            return Future.failedFuture(e);
          }
        });
      }
      Object out = call(target, m, args);
      if (out != null && (r == PreparedQuery.class || r == Query.class)) return proxy(r, out, timer);
      return out;
    };
    return (T) Proxy.newProxyInstance(TimedQueries.class.getClassLoader(), new Class<?>[] {type}, h);
  }

  private static Object call(Object target, Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
