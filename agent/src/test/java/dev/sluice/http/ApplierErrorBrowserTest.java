package dev.sluice.http;

import static dev.sluice.testing.Browser.screenshot;
import static dev.sluice.testing.Browser.script;
import static dev.sluice.testing.Browser.text;
import static dev.sluice.testing.Browser.visible;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.job.Migrator;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Browser;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The change applier failing, as a person watching the dashboard sees it (headless Chromium, a real
 * PostgreSQL). A job in trigger mode is in sync; then the target's table gets a CHECK constraint the
 * source's next updates break, so every batch the applier tries fails with PostgreSQL's own error
 * (23514). The backlog card shows "applier" and that error, in the warning colour, as text (the
 * constraint's name is HTML, which must not become markup). The operator then pauses the job: the
 * applier applies nothing while it is paused, so it has not recovered, and the line stays, as does
 * {@code capture.applierFailing} in {@code GET /api/jobs} (before, the applier's idle turns while
 * paused cleared it within a poll). The constraint is dropped while the job is paused: still
 * failing, since no batch went through. Once the job resumes the next batch goes through: the line is
 * gone, and the target is level with the source. Screenshots: target/dashboard-applier-error.png,
 * target/dashboard-applier-error-paused.png. With {@code CI=true} a missing browser fails the test; elsewhere
 * it is skipped.
 */
class ApplierErrorBrowserTest {
  private static final String CONSTRAINT = "\"<b>no plus</b>\"";
  private static final String VIOLATION = "23514 new row for relation \"items\" violates check constraint \"<b>no plus</b>\"";
  private static final String TOKEN = "applier-error-token-0123456789";
  private static final String ROWS = "SELECT row(id, name)::text FROM items ORDER BY id";
  private final TestPg pg = TestPg.get();

  @Test
  void theApplierFailingIsShownWhileItFailsAndGoneOnceItApplies() throws Exception {
    Browser.require();
    // Chromium takes seconds to start on a busy machine: it starts while the agent copies and verifies.
    CompletableFuture<WebDriver> starting = CompletableFuture.supplyAsync(Browser::start);
    Agent agent = null;
    try {
      String src = pg.createDatabase("aesrc");
      String tgt = pg.createDatabase("aetgt");
      pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
          "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g");
      agent = Agents.start("""
          {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
           "health": {"foreground": {"enabled": false}},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                     "target": {"table": "public.items", "create": true}, "segment": {"rows": 1000},
                     "capture": {"mode": "trigger", "pollMs": 200, "inSyncRows": 20}}]}""".formatted(pg.url(src), pg.url(tgt), TOKEN));
      Migrator job = agent.migrators().get("items");
      WebDriver driver = starting.get(1, TimeUnit.MINUTES);
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(10), Duration.ofMillis(100));
      wait.ignoring(StaleElementReferenceException.class);
      driver.get("http://127.0.0.1:" + agent.httpPort() + "/");
      // In sync and finally verified: from here on only the applier writes to the target's table.
      wait.until(d -> "in_sync".equals(state(tgt)));
      wait.until(d -> text(d, "#backlog").contains("changes · oldest"));
      assertTrue(driver.findElements(By.id("applier-error")).isEmpty(), "no applier line before a failure");

      pg.exec(tgt, "ALTER TABLE items ADD CONSTRAINT " + CONSTRAINT + " CHECK (name NOT LIKE '%+%') NOT VALID");
      pg.exec(src, "UPDATE items SET name = name || '+' WHERE id <= 5");
      wait.until(d -> visible(d, "#applier-error"));
      String reported = job.live().backlog().lastError();
      assertTrue(reported.startsWith(VIOLATION), reported);
      // The page re-renders the card every second: each look finds the line afresh.
      boolean displayed = wait.until(d -> d.findElement(By.id("applier-error")).isDisplayed());
      assertTrue(displayed, "the applier's error is displayed");
      String shown = wait.until(d -> d.findElement(By.id("applier-error")).getText());
      assertTrue(shown.startsWith(VIOLATION), "the error as text, its HTML not markup: " + shown);
      assertTrue(driver.findElements(By.cssSelector("#backlog b")).isEmpty(), "no element made of the server's text");
      assertEquals("applier", script(driver, "return document.getElementById('applier-error').previousElementSibling.textContent"),
          "labelled");
      assertEquals("rgb(252, 211, 77)", script(driver, "return getComputedStyle(document.getElementById('applier-error')).color"),
          "in the warning colour");
      script(driver, "document.getElementById('backlog').scrollIntoView({block: 'center'})");
      screenshot(driver, "dashboard-applier-error.png");

      // Paused because the applier fails: the reason stays in sight (the applier polls every 200 ms).
      String base = "http://127.0.0.1:" + agent.httpPort();
      assertEquals(200, Http.post(base + "/api/jobs/items/pause", TOKEN, "{\"reason\": \"the applier fails\"}").status());
      wait.until(d -> String.valueOf(job.waitingReason()).startsWith("paused by api"));
      stillFailing(driver, base, 2_500);
      pg.exec(tgt, "ALTER TABLE items DROP CONSTRAINT " + CONSTRAINT);
      stillFailing(driver, base, 1_500); // nothing applied yet: not recovered
      screenshot(driver, "dashboard-applier-error-paused.png");
      assertEquals(200, Http.post(base + "/api/jobs/items/resume", TOKEN, "{}").status());
      wait.until(d -> d.findElements(By.id("applier-error")).isEmpty());
      assertEquals(false, capture(base).getBoolean("applierFailing"), "a batch went through");
      wait.until(d -> pg.strings(src, ROWS).equals(pg.strings(tgt, ROWS)));
      assertEquals(reported, job.live().backlog().lastError(), "the API still says why it last failed");
      assertTrue(pg.strings(tgt, ROWS).contains("(5,\"item 5+\")"), "the failed change applied in the end");
    } finally {
      try {
        starting.get(1, TimeUnit.MINUTES).quit();
      } catch (Exception e) {
        // the browser did not start: nothing to quit
      }
      if (agent != null) Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  /** For {@code ms}: the API says the applier fails, with the constraint's error, and the dashboard shows it. */
  private static void stillFailing(WebDriver driver, String base, long ms) throws InterruptedException {
    long end = System.nanoTime() + ms * 1_000_000;
    do {
      JsonObject capture = capture(base);
      assertEquals(true, capture.getBoolean("applierFailing"), "GET /api/jobs while paused: " + capture);
      assertTrue(capture.getString("lastApplierError").startsWith(VIOLATION), capture.encode());
      assertTrue(visible(driver, "#applier-error"), "the applier line while paused");
      Thread.sleep(200);
    } while (System.nanoTime() < end);
  }

  private static JsonObject capture(String base) {
    return new JsonObject(Http.get(base + "/api/jobs").body()).getJsonArray("jobs").getJsonObject(0).getJsonObject("capture");
  }

  private String state(String tgt) {
    try {
      return pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'items' AND verify_report IS NOT NULL");
    } catch (IllegalStateException e) {
      return "";
    }
  }
}
