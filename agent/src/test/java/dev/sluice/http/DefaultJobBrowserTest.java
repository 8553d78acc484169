package dev.sluice.http;

import static dev.sluice.testing.Browser.screenshot;
import static dev.sluice.testing.Browser.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Browser;
import dev.sluice.testing.TestPg;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard opened without a job in its address shows a job this agent runs. The ledger lists
 * every job it ever held, ended ones too, by name; the page showed the first of them (here {@code aaa},
 * completed by an earlier run), whose controls are all off ("this job does not run on this agent"), so
 * a person opening it in production looked at a finished job. Screenshot: target/dashboard-default-job.png.
 */
class DefaultJobBrowserTest {
  private final TestPg pg = TestPg.get();

  @Test
  void theRunningJobIsShownFirst() throws Exception {
    Browser.require();
    CompletableFuture<WebDriver> starting = CompletableFuture.supplyAsync(Browser::start);
    Agent agent = null;
    try {
      String src = pg.createDatabase("djsrc");
      String tgt = pg.createDatabase("djtgt");
      pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
          "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
      String config = """
          {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0},
           "health": {"foreground": {"enabled": false}},
           "jobs": [{"name": "%s", "source": {"table": "public.items", "key": ["id"]},
                     "target": {"table": "public.%s", "create": true}, "segment": {"rows": 100},
                     "capture": {"enabled": false}%s}]}""";
      Map<String, JobState> earlier = Agents.runUntilDone(config.formatted(pg.url(src), pg.url(tgt), "aaa", "aaa", ""));
      assertEquals(JobState.COMPLETED, earlier.get("aaa"));
      agent = Agents.start(config.formatted(pg.url(src), pg.url(tgt), "items", "items", ", \"pace\": {\"rowsPerSecond\": 50}"));
      WebDriver driver = starting.get(1, TimeUnit.MINUTES);
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(15), Duration.ofMillis(100));
      wait.ignoring(StaleElementReferenceException.class);
      driver.get("http://127.0.0.1:" + agent.httpPort() + "/");
      wait.until(d -> text(d, "#overview").contains("aaa") && text(d, "#overview").contains("items"));
      wait.until(d -> !text(d, "#job-name").isEmpty());
      screenshot(driver, "dashboard-default-job.png");
      assertEquals("items", text(driver, "#job-name"), "the job this agent runs, not the ledger's first");
    } finally {
      try {
        starting.get(1, TimeUnit.MINUTES).quit();
      } catch (Exception e) {
        // the browser did not start: nothing to quit
      }
      if (agent != null) Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
