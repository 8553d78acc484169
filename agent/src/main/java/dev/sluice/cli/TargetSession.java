package dev.sluice.cli;

import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.ledger.LedgerSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.function.Function;

/**
 * Small source and target pools for the one-shot commands that act on a job through the ledger
 * (rollback, cleanup, complete). Runs on the CLI thread, which may block.
 */
final class TargetSession implements AutoCloseable {
  final Vertx vertx = Vertx.vertx();
  final Pool source;
  final Pool target;

  TargetSession(SluiceConfig cfg, String name) {
    source = Databases.pool(vertx, cfg.source(), name, 2);
    target = Databases.pool(vertx, cfg.target(), name, 2);
  }

  /**
   * When the target holds a ledger, brings its schema up to date and runs {@code work}; null when
   * there is no ledger (no job ever ran there: nothing to act on, and nothing is created).
   */
  <T> T runIfLedger(Function<TargetSession, Future<T>> work) {
    return Await.result(LedgerSchema.exists(target).compose(exists -> !exists ? Future.<T>succeededFuture(null)
        : LedgerSchema.ensure(target).compose(v -> work.apply(this))));
  }

  /** Brings the ledger schema up to date (these commands write to it), then runs {@code work}. */
  <T> T run(Function<TargetSession, Future<T>> work) {
    return Await.result(LedgerSchema.ensure(target).compose(v -> work.apply(this)));
  }

  @Override
  public void close() {
    Await.result(source.close().otherwiseEmpty());
    Await.result(target.close().otherwiseEmpty());
    Await.result(vertx.close());
  }
}
