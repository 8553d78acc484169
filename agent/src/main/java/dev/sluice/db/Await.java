package dev.sluice.db;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for a future from a thread that may block: the CLI's main thread or a worker running
 * start-up checks. Refuses to run on an event loop, where blocking would stall every connection.
 */
public final class Await {
  private Await() {}

  public static <T> T result(Future<T> f) {
    return result(f, 10, TimeUnit.MINUTES);
  }

  public static <T> T result(Future<T> f, long timeout, TimeUnit unit) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException("Await.result called on an event loop");
    }
    try {
      return f.toCompletionStage().toCompletableFuture().get(timeout, unit);
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof RuntimeException re) throw re;
      throw new RuntimeException(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException("interrupted", e);
    } catch (TimeoutException e) {
      throw new RuntimeException("timed out after " + timeout + " " + unit, e);
    }
  }
}
