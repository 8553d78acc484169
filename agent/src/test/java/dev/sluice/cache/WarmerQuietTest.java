package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.sluice.agent.Agent;
import dev.sluice.testing.LogCapture;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cache warmer works only where something can read the cache, and ends quietly: with the HTTP
 * server off nothing is warmed (it would only load the target for nobody); with it on, slowly (so
 * that the run ends while warming still has work), it warms and then stops without a warning.
 */
class WarmerQuietTest {
  private final TestPg pg = TestPg.get();

  // The copy at full speed whatever the machine's load (the foreground control is not what is tested here).
  private static final String NO_FOREGROUND = "{\"foreground\": {\"enabled\": false}}";
  private static final String JOB = """
      {"name": "docs", "source": {"table": "public.docs", "key": ["id"]}, "target": {"table": "public.docs", "create": true},
       "segment": {"rows": 500}, "cache": {"warmRowsPerSecond": 50, "warmBatchRows": 50}}""";

  @Test
  void noWarmingWithoutAReaderAndNoWarningAtTheEnd() throws Exception {
    LogCapture logs = LogCapture.root();
    try {
      String src = pg.createDatabase("wqsrc");
      pg.exec(src, "CREATE TABLE docs (id bigint PRIMARY KEY, body text)",
          "INSERT INTO docs SELECT g, 'doc ' || g FROM generate_series(1, 3000) g");

      // HTTP off: no reader, so no warming.
      String quiet = pg.createDatabase("wqtgt");
      Agent off = Agents.start("""
          {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false}, "health": %s, "jobs": [%s]}"""
          .formatted(pg.url(src), pg.url(quiet), NO_FOREGROUND, JOB));
      try {
        Await.result(off.untilDone(), 2, TimeUnit.MINUTES);
        Thread.sleep(1500); // past a ledger poll of the segment watch
        assertEquals(0, off.reads().get("docs").cache().size(), "nothing warmed with the HTTP server off");
      } finally {
        Await.result(off.stop(), 1, TimeUnit.MINUTES);
      }

      // HTTP on: warmed, and a run to the end stops without a warning from the warmer.
      String served = pg.createDatabase("wqtgt");
      Agent on = Agents.start(ReadTests.config(pg, src, served, NO_FOREGROUND, JOB));
      try {
        Await.result(on.untilDone(), 2, TimeUnit.MINUTES);
        ReadTests.await("warming", 30, () -> on.reads().get("docs").cache().size() > 0);
        assertTrue(on.reads().get("docs").cache().size() < 3000, "still warming when the agent stops");
      } finally {
        Await.result(on.stop(), 1, TimeUnit.MINUTES);
      }
      Thread.sleep(500);
      List<String> warned = logs.events().stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)
          && e.getLoggerName().startsWith("dev.sluice.cache")).map(ILoggingEvent::getFormattedMessage).toList();
      assertTrue(warned.isEmpty(), "the read path warned: " + warned);
    } finally {
      logs.close();
    }
  }
}
