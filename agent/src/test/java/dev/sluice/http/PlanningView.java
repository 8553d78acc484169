package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.MovableClock;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The dashboard's planning parts as a person sees them (used by {@link DashboardBrowserTest}). */
final class PlanningView {
  private PlanningView() {}

  /** A window open now, four hours every day (the hour before this one to two hours after it), as a schedule window's JSON. */
  static String openWindow() {
    int h = Instant.now().atZone(ZoneOffset.UTC).getHour();
    int end = (h + 3) % 24;
    return "{\"start\": \"%02d:00\", \"end\": \"%02d:00\"}".formatted((h + 23) % 24, end == 0 ? 24 : end);
  }

  /**
   * Ten minutes pass for the agent's outlook once it has a finish date: the job's rows left still
   * take about as long, so its finish date is 10 minutes later than the one made "10 minutes ago":
   * the trend in {@code /api/jobs} (words and seconds) and {@code sluice_job_finish_trend_seconds}.
   */
  static void tenMinutesPass(Agent agent, MovableClock clock) throws Exception {
    String base = "http://127.0.0.1:" + agent.httpPort();
    Eventually.until(Duration.ofSeconds(30), "a finish date", () -> finish(base) != null && finish(base).getString("at") != null);
    assertTrue(Double.isNaN(trendGauge(base)), "no trend on /metrics before 5 minutes");
    clock.advance(Duration.ofMinutes(10));
    JsonObject f = Eventually.value(Duration.ofSeconds(30), "a trend", () -> {
      JsonObject x = finish(base);
      return x != null && x.getString("trend") != null ? x : null;
    });
    assertTrue(f.getString("trend").contains("later than 10 min ago"), f.encodePrettily());
    double moved = f.getDouble("trendSeconds");
    assertTrue(moved > 420 && moved < 780, "about 10 minutes later: " + f.encodePrettily());
    double gauge = trendGauge(base);
    assertTrue(gauge > 420 && gauge < 780, "sluice_job_finish_trend_seconds " + gauge);
  }

  private static JsonObject finish(String base) {
    JsonArray jobs = new JsonObject(Http.get(base + "/api/jobs").body()).getJsonArray("jobs");
    return jobs.isEmpty() ? null : jobs.getJsonObject(0).getJsonObject("finish");
  }

  private static double trendGauge(String base) {
    Matcher m = Pattern.compile("(?m)^sluice_job_finish_trend_seconds\\{[^}]*} (\\S+)$").matcher(Http.get(base + "/metrics").body());
    assertTrue(m.find(), "sluice_job_finish_trend_seconds on /metrics");
    return Double.parseDouble(m.group(1));
  }

  /** A week of the source's traffic as agents would have recorded it: busy 08:00-20:00 UTC (200 tx/s), quiet otherwise (10 tx/s). */
  static void learnedWeek(TestPg pg, String ledgerDb, String source) {
    pg.exec(ledgerDb, ("INSERT INTO sluice.traffic_hours (source, hour, seconds, xacts, xact_seconds, busy_sum, busy_n, busy_max, probe_sum, "
        + "probe_n, probe_max) SELECT '%s', h, 3600, 3600 * r, 3600, 10 * r, 400, r / 20, 400, 400, 2 FROM ("
        + "SELECT h, CASE WHEN extract(hour FROM h AT TIME ZONE 'UTC') BETWEEN 8 AND 19 THEN 200 ELSE 10 END AS r "
        + "FROM generate_series(date_trunc('hour', now()) - interval '168 hours', date_trunc('hour', now()) - interval '1 hour', "
        + "interval '1 hour') h) x").formatted(source));
  }

  /**
   * The finish date in its tile with the sentence under the tiles and its trend, the report (provisional while the
   * job runs), and the learned week: 168 hour cells, the busy hours orange and the quiet ones dark
   * (pixels of a screenshot, target/dashboard-week.png), a teal band on exactly the 28 hours the
   * configured window leaves open and on no other, and the advice proposing the quiet hours.
   */
  @SuppressWarnings("unchecked")
  static void assertShown(WebDriver driver, WebDriverWait wait) throws Exception {
    wait.until(d -> text(d, "#finish-at").matches(".*\\d\\d:\\d\\d.*"));
    wait.until(d -> text(d, "#finish-note").startsWith("finishes around"));
    wait.until(d -> text(d, "#finish-note").contains("later than 10 min ago")); // the trend (tenMinutesPass)
    assertTrue(text(driver, "#finish-note").contains("inside its windows"), text(driver, "#finish-note"));
    wait.until(d -> text(d, "#report-kind").contains("provisional"));
    wait.until(d -> d.findElements(By.cssSelector("#week .wk-cell")).size() == 168);
    assertEquals(28, driver.findElements(By.cssSelector("#week .wk-cell.open")).size(), "4 open hours a day");
    assertEquals(0, driver.findElements(By.cssSelector("#week .wk-cell.unmeasured")).size(), "a whole week measured");
    wait.until(d -> text(d, "#advice-windows").contains("20:00-08:00"));
    assertTrue(text(driver, "#advice").contains("proposed rate"), text(driver, "#advice"));

    JavascriptExecutor js = (JavascriptExecutor) driver;
    new Actions(driver).moveToElement(driver.findElement(By.cssSelector(".brand"))).perform();
    js.executeScript("document.getElementById('week').scrollIntoView({block: 'center'})");
    // Monday 12:00 (busy) and Monday 03:00 (quiet) near their top; an open and a closed hour at their bottom edge (the band).
    List<Object> boxes = (List<Object>) js.executeScript("""
        const w = document.getElementById('week').getBoundingClientRect();
        const at = (sel, fy) => { const r = document.querySelector(sel).getBoundingClientRect();
          return [r.left + r.width / 2 - w.left, r.top + r.height * fy - w.top]; };
        return [at('.wk-cell[data-hour="12"]', 0.3), at('.wk-cell[data-hour="3"]', 0.3),
                at('.wk-cell.open', 0.9), at('.wk-cell:not(.open)', 0.9), w.width];""");
    File shot = driver.findElement(By.id("week")).getScreenshotAs(OutputType.FILE);
    Path out = Path.of("target", "dashboard-week.png");
    Files.copy(shot.toPath(), out, StandardCopyOption.REPLACE_EXISTING);
    BufferedImage image = ImageIO.read(out.toFile());
    double scale = image.getWidth() / ((Number) boxes.get(4)).doubleValue();
    int[] busy = pixel(image, (List<Object>) boxes.get(0), scale);
    int[] quiet = pixel(image, (List<Object>) boxes.get(1), scale);
    int[] band = pixel(image, (List<Object>) boxes.get(2), scale);
    int[] closed = pixel(image, (List<Object>) boxes.get(3), scale);
    assertTrue(busy[0] > 200 && busy[2] < 80, "a busy hour is orange in " + out + ": " + Arrays.toString(busy));
    assertTrue(quiet[0] < 80, "a quiet hour is dark in " + out + ": " + Arrays.toString(quiet));
    assertTrue(Math.abs(band[0] - 0x2d) <= 3 && Math.abs(band[1] - 0xd4) <= 3 && Math.abs(band[2] - 0xbf) <= 3,
        "the teal window band on an open hour in " + out + ": " + Arrays.toString(band));
    assertFalse(Math.abs(closed[1] - 0xd4) <= 20 && Math.abs(closed[2] - 0xbf) <= 20, "no band outside the windows: " + Arrays.toString(closed));
  }

  private static int[] pixel(BufferedImage image, List<Object> xy, double scale) {
    int p = image.getRGB((int) (((Number) xy.get(0)).doubleValue() * scale), (int) (((Number) xy.get(1)).doubleValue() * scale));
    return new int[] {(p >> 16) & 255, (p >> 8) & 255, p & 255};
  }

  private static String text(WebDriver d, String selector) {
    Object t = ((JavascriptExecutor) d).executeScript(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : ''", selector);
    return t == null ? "" : t.toString();
  }
}
