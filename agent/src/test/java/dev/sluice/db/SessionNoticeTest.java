package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL's NOTICEs (such as {@code schema "sluice" already exists, skipping} at every start, and
 * in {@code retry} and {@code complete}) are not warnings: Sluice's sessions do not ask for them, so
 * the driver never logs them as WARN lines. A WARNING still reaches the log.
 */
class SessionNoticeTest {
  private final TestPg pg = TestPg.get();

  private static List<String> warned(ListAppender<ILoggingEvent> logs) {
    synchronized (logs) {
      return logs.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  @Test
  void noticesAreNotLoggedAsWarnings() {
    String name = pg.createDatabase("notice");
    DatabaseConfig db = pg.database(name);
    Vertx vertx = Vertx.vertx();
    Pool pool = Databases.pool(vertx, db, "sluice-ledger", 1);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    logs.start();
    root.addAppender(logs);
    try {
      Await.result(LedgerSchema.ensure(pool));
      Await.result(LedgerSchema.ensure(pool)); // the schema and its tables exist: each IF NOT EXISTS is a NOTICE
      // Through a connection, as the ledger's statements run (a pool's one-shot query drops server messages).
      Await.result(pool.withConnection(c -> c.query("DO $$ BEGIN RAISE NOTICE 'a notice'; RAISE WARNING 'a warning'; END $$").execute()));
      // The driver logs a server message on its event loop, after the statement's result; one
      // connection, so the WARNING comes after every NOTICE it would have logged.
      Eventually.until(Duration.ofSeconds(10), "the WARNING logged", () -> warned(logs).stream().anyMatch(m -> m.contains("a warning")));
      List<String> warned = warned(logs);
      assertTrue(warned.stream().noneMatch(m -> m.contains("already exists") || m.contains("a notice")), warned.toString());
      assertEquals("warning", Await.result(pool.query("SHOW client_min_messages").execute()).iterator().next().getString(0));
    } finally {
      root.detachAppender(logs);
      Await.result(pool.close());
      Await.result(vertx.close());
    }
  }
}
