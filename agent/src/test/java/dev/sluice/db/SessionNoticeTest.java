package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.testing.LogCapture;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * PostgreSQL's NOTICEs (such as {@code schema "sluice" already exists, skipping} at every start, and
 * in {@code retry} and {@code complete}) are not warnings: Sluice's sessions do not ask for them, so
 * the driver never logs them as WARN lines. A WARNING still reaches the log.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SessionNoticeTest {
  private final TestPg pg = TestPg.get();

  private static List<String> warned(LogCapture logs) {
    return logs.events().stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void noticesAreNotLoggedAsWarnings(Vertx vertx, VertxTestContext ctx) {
    String name = pg.createDatabase("notice");
    DatabaseConfig db = pg.database(name);
    Pool pool = Databases.pool(vertx, db, "sluice-ledger", 1);
    LogCapture logs = LogCapture.root();
    LedgerSchema.ensure(pool)
        .compose(v -> LedgerSchema.ensure(pool)) // the schema and its tables exist: each IF NOT EXISTS is a NOTICE
        // Through a connection, as the ledger's statements run (a pool's one-shot query drops server messages).
        .compose(v -> pool.withConnection(c -> c.query("DO $$ BEGIN RAISE NOTICE 'a notice'; RAISE WARNING 'a warning'; END $$").execute()))
        // The driver logs a server message on its event loop, after the statement's result; one
        // connection, so the WARNING comes after every NOTICE it would have logged.
        .compose(v -> Async.until(vertx, Duration.ofSeconds(10), "the WARNING logged",
            () -> Future.succeededFuture(warned(logs).stream().anyMatch(m -> m.contains("a warning")))))
        .compose(v -> {
          List<String> warned = warned(logs);
          ctx.verify(() -> assertTrue(warned.stream().noneMatch(m -> m.contains("already exists") || m.contains("a notice")), warned.toString()));
          return Async.text(pool, "SHOW client_min_messages");
        })
        .eventually(() -> {
          logs.close();
          return pool.close();
        })
        .onComplete(ctx.succeeding(level -> ctx.verify(() -> {
          assertEquals("warning", level);
          ctx.completeNow();
        })));
  }
}
