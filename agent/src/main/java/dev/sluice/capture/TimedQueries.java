package dev.sluice.capture;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Query;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * A {@link WatchedPool}'s pool as a plain {@link Pool} whose queries' executions are timed
 * ({@link WatchedPool#timed}): {@code query(sql)} and {@code preparedQuery(sql)} give queries whose
 * {@code execute} and {@code executeBatch} futures are timed, and so do the queries their {@code collecting} and {@code mapping} make. Everything else
 * goes to the pool as it is. A dynamic proxy: vertx-sql-client's query interfaces are wide and grow
 * from release to release, and only their futures matter here.
 */
final class TimedQueries {
  private TimedQueries() {}

  /** {@code what}: what the statements do, for a stall's reason ("verifying"). */
  static Pool pool(WatchedPool watched, String what) {
    return proxy(Pool.class, watched.pool(), watched, what);
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, Object target, WatchedPool watched, String what) {
    InvocationHandler h = (self, m, args) -> {
      if (m.getDeclaringClass() == Object.class) return call(target, m, args);
      Class<?> r = m.getReturnType();
      if (Future.class.isAssignableFrom(r) && target instanceof Query<?>) {
        return watched.timed(what, () -> {
          try {
            return (Future<Object>) call(target, m, args);
          } catch (Throwable e) {
            return Future.failedFuture(e);
          }
        });
      }
      Object out = call(target, m, args);
      if (out != null && (r == PreparedQuery.class || r == Query.class)) return proxy(r, out, watched, what);
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
