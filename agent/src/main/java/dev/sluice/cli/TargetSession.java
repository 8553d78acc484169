package dev.sluice.cli;

import dev.sluice.capture.WatchedPool;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.ledger.LedgerSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Small source and target pools for the one-shot commands that act on a job through the ledger
 * (rollback, cleanup, complete). Runs on the CLI thread, which may block.
 *
 * <p>A command is not timed as a whole: a paced rollback of a large table rightly runs for hours (it
 * used to be cut at ten minutes, "timed out after 10 MINUTES", half done). Each statement is, as the
 * agent's are: the sessions have {@code sessions.statementTimeoutMs}, and a statement with no answer for
 * that plus {@code sessions.stallTimeoutMs} (that alone when the first is 0) fails with the database named as
 * stalled ({@link WatchedPool#shared}).
 */
final class TargetSession implements AutoCloseable {
  final Vertx vertx = Vertx.vertx();
  final Pool source;
  final Pool target;

  TargetSession(SluiceConfig cfg, String name) {
    String what = "running " + name.replace("sluice-", "sluice ");
    source = watched(cfg, cfg.source(), name, "source").timedPool(what);
    target = watched(cfg, cfg.target(), name, "target").timedPool(what);
  }

  /**
   * Timed against {@code statementTimeoutMs + stallTimeoutMs}; with {@code statementTimeoutMs} 0 (none)
   * against {@code stallTimeoutMs} alone, as nothing else would then end a statement on a silent
   * database (the commands' statements are short: a 5,000-row delete, a ledger write).
   */
  private WatchedPool watched(SluiceConfig cfg, DatabaseConfig db, String name, String side) {
    return cfg.sessions().statementTimeout().isZero()
        ? WatchedPool.open(vertx, db, "command", name, side, 2, cfg.sessions())
        : WatchedPool.shared(vertx, db, name, side, 2, cfg.sessions(), "command");
  }

  /**
   * When the target holds a ledger, brings its schema up to date and runs {@code work}; null when
   * there is no ledger (no job ever ran there: nothing to act on, and nothing is created).
   */
  <T> T runIfLedger(Function<TargetSession, Future<T>> work) {
    return Await.result(LedgerSchema.exists(target).compose(exists -> !exists ? Future.<T>succeededFuture(null)
        : LedgerSchema.ensure(target).compose(v -> work.apply(this))), Long.MAX_VALUE, TimeUnit.NANOSECONDS);
  }

  /** Brings the ledger schema up to date (these commands write to it), then runs {@code work}. */
  <T> T run(Function<TargetSession, Future<T>> work) {
    return Await.result(LedgerSchema.ensure(target).compose(v -> work.apply(this)), Long.MAX_VALUE, TimeUnit.NANOSECONDS);
  }

  @Override
  public void close() {
    Await.result(source.close().otherwiseEmpty());
    Await.result(target.close().otherwiseEmpty());
    Await.result(vertx.close());
  }
}
