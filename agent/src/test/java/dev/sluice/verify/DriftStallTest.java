package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.sluice.capture.WatchedPool;
import dev.sluice.testing.LogCapture;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SessionLimits;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.inspect.JobShape;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.FreezingProxy;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The drift monitor checks a source whose open connections go dead without a word (a partition, a
 * firewall that lost its state), while new connections work; it reaches it through a
 * {@link FreezingProxy}, on a timed pool as the agent gives it (the final verification's).
 *
 * <p>On the job's shared pools, as before, its check waited for ever on the dead connection: no drift was
 * ever seen again, and the connection was lost to the copy. Now the check fails after the stall timeout
 * with one WARN, the pool's connections are reset, and the next poll, on a fresh one, sees the column
 * added meanwhile and pauses the job.
 */
class DriftStallTest {
  private final TestPg pg = TestPg.get();

  @Test
  void aCheckWhoseConnectionWentDeadFailsAndTheNextSeesTheDrift() throws Exception {
    Vertx vertx = Vertx.vertx();
    String src = pg.createDatabase("ds_src");
    String tgt = pg.createDatabase("ds_tgt");
    pg.exec(src, "CREATE TABLE items (id int PRIMARY KEY, v int)");
    pg.exec(tgt, "CREATE TABLE items (id int PRIMARY KEY, v int)");
    SluiceConfig config = ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"},
           "drift": {"intervalMs": 200}}]}""".formatted(pg.url(src), pg.url(tgt)));
    JobShape shape = new JobShape(config.jobs().get(0), List.of(new JobShape.Column("id", "\"id\"", "integer", true)), List.of("id"),
        List.of("id"), List.of("integer"), true, 0, true);
    SessionLimits limits = new SessionLimits(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1));
    LogCapture logs = LogCapture.of(DriftMonitor.class);
    try (FreezingProxy proxy = new FreezingProxy(pg.host(), pg.port())) {
      DatabaseConfig direct = pg.database(src);
      DatabaseConfig via = new DatabaseConfig("127.0.0.1", proxy.port(), src, direct.user(), null, null, direct.tls(), 1);
      WatchedPool source = WatchedPool.open(vertx, via, "final verification", "sluice-verify-source", "source", 2, limits);
      WatchedPool target = WatchedPool.open(vertx, pg.database(tgt), "final verification", "sluice-verify-target", "target", 2, limits);
      List<String> pauses = new CopyOnWriteArrayList<>();
      DriftMonitor drift = new DriftMonitor(vertx, shape, source.timedPool("checking for drift"), target.timedPool("checking for drift"),
          why -> {
            pauses.add(why);
            return Future.succeededFuture();
          }, () -> !pauses.isEmpty());
      try {
        Await.result(drift.start(), 10, TimeUnit.SECONDS);
        Eventually.pause(500); // a few checks on the source's connection
        proxy.freezeOpen();
        pg.exec(src, "ALTER TABLE items ADD COLUMN extra int");
        String why = Eventually.value(Duration.ofSeconds(10), "the drift seen on a fresh connection", () -> pauses.isEmpty() ? null : pauses.get(0));
        assertTrue(why.startsWith("schema drift: column extra integer added to source table public.items"), why);
        List<String> warned = logs.events().stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(1, warned.size(), "one WARN: " + warned);
        assertTrue(warned.get(0).startsWith("job items: drift check failed (will retry): the source stalled: no answer for ")
            && warned.get(0).endsWith(" while checking for drift (sessions.stallTimeoutMs 1000); the final verification's connections to it "
            + "were reset"), warned.get(0));
      } finally {
        drift.stop();
        proxy.thaw();
        Await.result(Future.join(source.close(), target.close()), 10, TimeUnit.SECONDS);
        Await.result(vertx.close(), 10, TimeUnit.SECONDS);
      }
    } finally {
      logs.close();
    }
  }
}
