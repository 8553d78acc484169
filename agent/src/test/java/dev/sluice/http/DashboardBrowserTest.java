package dev.sluice.http;

import static dev.sluice.testing.Browser.screenshot;
import static dev.sluice.testing.Browser.text;
import static dev.sluice.testing.Browser.visible;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.Browser;
import dev.sluice.testing.MovableClock;
import dev.sluice.testing.TestPg;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in headless Chromium during a live, paced migration against PostgreSQL: progress
 * advances, heatmap cells turn verified, the page is read-only until the token is entered, pause
 * shows the job paused with its reason, resume lets it go on. The job captures changes from the WAL
 * while a writer updates the source: the page shows the keys/s read, the lag and the WAL the slot
 * retains, as figures a person reads (the same as /metrics). Screenshots go to target/. With
 * {@code CI=true} a missing browser fails the test; elsewhere it is skipped.
 */
class DashboardBrowserTest {
  private static final String TOKEN = "browser-token-0123456789";
  private final TestPg pg = TestPg.get();

  @Test
  void liveMigrationPauseAndResume() throws Exception {
    Browser.require();
    String src = pg.createDatabase("bsrc");
    String tgt = pg.createDatabase("btgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 60000) g");
    MovableClock clock = new MovableClock();
    Agent agent = new Agent(ConfigLoader.parse("""
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "%s"},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 1000}, "batch": {"rows": 250}, "pace": {"rowsPerSecond": 2500},
                   "concurrency": {"max": 2}, "capture": {"mode": "logical"},
                   "schedule": {"timeZone": "UTC", "windows": [%s]}}]}""".formatted(pg.url(src), pg.url(tgt),
        TOKEN, PlanningView.openWindow()))).outlookClock(clock);
    Await.result(agent.start(), 2, TimeUnit.MINUTES);
    PlanningView.learnedWeek(pg, tgt, "127.0.0.1:" + pg.port() + "/" + src);
    PlanningView.tenMinutesPass(agent, clock);
    WebDriver driver = null;
    AtomicBoolean stopWriting = new AtomicBoolean();
    Thread writer = new Thread(() -> updateUntil(src, stopWriting), "test-writer");
    try {
      writer.start();
      driver = Browser.start();
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(15), Duration.ofMillis(100));
      driver.get("http://127.0.0.1:" + agent.httpPort() + "/");

      wait.until(d -> d.findElements(By.cssSelector(".jobcard")).size() == 1);
      double first = progress(driver);
      wait.until(d -> progress(d) > first);
      wait.until(d -> d.findElements(By.cssSelector("#heatmap .cell.s-v")).size() >= 2);
      int verified = driver.findElements(By.cssSelector("#heatmap .cell.s-v")).size();
      assertEquals(pg.scalar(tgt, "SELECT segments_planned FROM sluice.jobs WHERE name = 'items'"),
          driver.findElements(By.cssSelector("#heatmap .cell")).size(), "one cell a segment");

      new Actions(driver).moveToElement(driver.findElements(By.cssSelector("#heatmap .cell.s-v")).get(0)).perform();
      wait.until(d -> text(d, "#tip").contains("verified") && text(d, "#tip").contains("attempts 1")
          && text(d, "#tip").contains("range") && text(d, "#tip").contains("rows 1,000 copied"));

      assertWalCaptureShown(driver, wait, "http://127.0.0.1:" + agent.httpPort());
      PlanningView.assertShown(driver, wait);
      assertTrue(driver.findElement(By.id("control-note")).getText().contains("Read-only"), "says it is read-only");
      assertFalse(driver.findElement(By.id("btn-pause")).isEnabled(), "no controls without the token");

      driver.findElement(By.id("token")).sendKeys("not-the-token-at-all");
      click(driver, "unlock");
      wait.until(d -> text(d, "#toasts").contains("wrong token"));
      assertFalse(driver.findElement(By.id("btn-pause")).isEnabled());

      driver.findElement(By.id("token")).clear();
      driver.findElement(By.id("token")).sendKeys(TOKEN);
      click(driver, "unlock");
      wait.until(d -> text(d, "#mode").equals("controls on"));
      wait.until(d -> d.findElement(By.id("btn-pause")).isEnabled());
      assertTrue(driver.findElement(By.id("btn-abort")).isEnabled(), "abort available with the token");
      assertTrue(driver.findElement(By.id("btn-rollback")).isEnabled(), "rollback available with the token");

      click(driver, "btn-pause");
      wait.until(d -> text(d, "#pause-reason").contains("paused by dashboard from 127.0.0.1"));
      wait.until(d -> text(d, ".jobcard .badge.paused").equals("paused"));
      wait.until(d -> text(d, "#audit").contains("job items paused by dashboard from 127.0.0.1"));
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND paused"));
      assertTrue(driver.findElements(By.cssSelector("#heatmap .cell.s-v")).size() >= verified);
      screenshot(driver, "dashboard-paused.png");
      assertPaintedByState(driver);

      driver.manage().window().setSize(new Dimension(390, 844));
      Thread.sleep(300); // let the charts take the new width
      Object overflow = ((JavascriptExecutor) driver).executeScript(
          "return document.documentElement.scrollWidth - window.innerWidth");
      assertTrue(((Number) overflow).intValue() <= 1, "no sideways scrolling at phone width: " + overflow + " px");
      screenshot(driver, "dashboard-phone.png");
      driver.manage().window().setSize(new Dimension(1280, 800));

      click(driver, "btn-resume");
      wait.until(d -> text(d, "#pause-reason").isEmpty());
      wait.until(d -> d.findElement(By.id("btn-pause")).isEnabled());
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM sluice.jobs WHERE name = 'items' AND paused"));
      int afterResume = driver.findElements(By.cssSelector("#heatmap .cell.s-v")).size();
      int cells = driver.findElements(By.cssSelector("#heatmap .cell")).size();
      wait.until(d -> {
        int v = d.findElements(By.cssSelector("#heatmap .cell.s-v")).size();
        return v > afterResume || v == cells;
      });
      screenshot(driver, "dashboard.png");
    } finally {
      stopWriting.set(true);
      writer.join();
      if (driver != null) driver.quit();
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
      // The job stops unfinished: its slot would hold the shared cluster's WAL (and its name) for good.
      pg.exec(src, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'sluice_items'");
    }
  }

  /**
   * The capture line of the backlog card, as a person reads it: keys/s from the WAL (above zero while
   * the writer runs), the lag behind the source's commits, and the WAL the slot retains, in figures
   * that agree with /metrics.
   */
  private static void assertWalCaptureShown(WebDriver driver, WebDriverWait wait, String base) {
    Pattern line = Pattern.compile("from the WAL · ([0-9,]+) keys/s · lag ([0-9.]+)s");
    String shown = wait.withTimeout(Duration.ofSeconds(30)).until(d -> {
      Matcher m = line.matcher(text(d, "#wal-capture"));
      return m.find() && Long.parseLong(m.group(1).replace(",", "")) > 0 ? m.group() : null;
    });
    wait.withTimeout(Duration.ofSeconds(15));
    assertTrue(visible(driver, "#wal-capture"), "the capture line is visible: " + shown);
    Matcher slot = Pattern.compile("sluice_items retains ([0-9.]+) (B|kB|MB|GB) of WAL").matcher(text(driver, "#wal-slot"));
    assertTrue(slot.find(), "the slot's retained WAL: " + text(driver, "#wal-slot"));
    assertTrue(visible(driver, "#wal-slot"), "the slot line is visible");
    String metrics = dev.sluice.testing.Http.get(base + "/metrics").body();
    for (String name : List.of("sluice_capture_wal_keys_per_second", "sluice_capture_wal_lag_seconds", "sluice_capture_slot_retained_bytes")) {
      Matcher m = Pattern.compile("(?m)^" + name + "\\{sluice_job=\"items\"} (\\S+)$").matcher(metrics);
      assertTrue(m.find() && !m.group(1).equals("NaN"), name + " in /metrics on the agent that reads the slot");
    }
  }

  /** Updates rows of the source's table, a few hundred a second, until {@code stop}. */
  private void updateUntil(String db, AtomicBoolean stop) {
    try (java.sql.Connection c = pg.connect(db);
        java.sql.PreparedStatement u = c.prepareStatement("UPDATE items SET name = name || '+' WHERE id = ?")) {
      long id = 1;
      while (!stop.get()) {
        u.setLong(1, id);
        u.executeUpdate();
        id = id % 60000 + 977;
        Thread.sleep(5);
      }
    } catch (Exception e) {
      if (!stop.get()) throw new IllegalStateException(e);
    }
  }

  /**
   * What a person sees: every legend swatch and every heatmap cell is painted in its state's colour
   * (the page's {@code --pending}, {@code --verified}, ... variables), read as computed styles and as
   * pixels of a screenshot of the heatmap (saved as target/dashboard-heatmap.png). The paused job has
   * both verified and pending cells, so a rule that paints every cell one colour fails here.
   */
  @SuppressWarnings("unchecked")
  private static void assertPaintedByState(WebDriver driver) throws Exception {
    JavascriptExecutor js = (JavascriptExecutor) driver;
    Map<String, String> colours = (Map<String, String>) js.executeScript("""
        const root = getComputedStyle(document.documentElement), out = {};
        for (const [k, v] of Object.entries({p: 'pending', c: 'copying', C: 'copied', v: 'verified', f: 'failed',
            r: 'rolling', R: 'rolled'})) out[k] = root.getPropertyValue('--' + v).trim();
        return out;""");
    Map<String, int[]> expected = new HashMap<>();
    colours.forEach((state, hex) -> expected.put(state, rgb(hex)));
    assertEquals(7, new HashSet<>(colours.values()).size(), "seven distinct state colours: " + colours);

    List<List<Object>> legend = (List<List<Object>>) js.executeScript(
        "return [...document.querySelectorAll('#legend i')].map(i => [i.className, getComputedStyle(i).backgroundColor])");
    assertEquals(7, legend.size(), "a swatch a state");
    for (List<Object> swatch : legend) {
      String state = swatch.get(0).toString().substring(2);
      assertColour(expected.get(state), swatch.get(1).toString(), "legend swatch " + state);
    }

    // A re-render between the snapshot and the screenshot (a segment split at run time, a running
    // segment finishing) leaves no cell to compare: look again, up to three times.
    Set<String> seen = Set.of();
    List<String> looks = new ArrayList<>();
    for (int look = 0; look < 3 && !(seen.contains("v") && seen.contains("p")); look++) {
      if (look > 0) Thread.sleep(500);
      seen = pixelsMatchStates(driver, expected, looks);
    }
    assertTrue(seen.contains("v") && seen.contains("p"), "the paused job shows verified and pending cells: " + seen + " " + looks);
  }

  /** Checks the screenshot's pixel of every cell whose state held still against its state's colour; returns the states checked. */
  private static Set<String> pixelsMatchStates(WebDriver driver, Map<String, int[]> expected, List<String> looks) throws Exception {
    JavascriptExecutor js = (JavascriptExecutor) driver;
    // One snapshot of the cells (class, computed colour, centre in CSS pixels), taken in one script so a
    // re-render cannot come between reading a cell's class and its colour.
    // The pointer rests on the sticky header (no tooltip, no hover outline) while the heatmap is in view.
    new Actions(driver).moveToElement(driver.findElement(By.cssSelector(".brand"))).perform();
    js.executeScript("document.getElementById('heatmap').scrollIntoView({block: 'center'})");
    List<List<Object>> cells = (List<List<Object>>) js.executeScript("""
        const h = document.getElementById('heatmap'), box = h.getBoundingClientRect();
        return [...h.querySelectorAll('.cell')].map(c => {
          const r = c.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
          return [c.className.replace('cell s-', ''), getComputedStyle(c).backgroundColor,
                  x - box.left, y - box.top, document.elementFromPoint(x, y) === c];
        });""");
    File shot = driver.findElement(By.id("heatmap")).getScreenshotAs(OutputType.FILE);
    Path out = Path.of("target", "dashboard-heatmap.png");
    Files.copy(shot.toPath(), out, StandardCopyOption.REPLACE_EXISTING);
    BufferedImage image = ImageIO.read(out.toFile());
    double scale = image.getWidth() / ((Number) js.executeScript(
        "return document.getElementById('heatmap').getBoundingClientRect().width")).doubleValue();
    // A segment in flight may change state between reading the cells and the screenshot (a paused job's
    // running segments still finish): a cell's pixel is checked only if its state is the same after it.
    List<Object> after = (List<Object>) js.executeScript(
        "return [...document.getElementById('heatmap').querySelectorAll('.cell')].map(c => c.className.replace('cell s-', ''))");

    Set<String> seen = new TreeSet<>();
    int visible = 0;
    for (int i = 0; i < cells.size(); i++) {
      List<Object> cell = cells.get(i);
      String state = cell.get(0).toString();
      assertTrue(expected.containsKey(state), "a known state: " + state);
      assertColour(expected.get(state), cell.get(1).toString(), "computed colour of a " + state + " cell");
      int x = (int) (((Number) cell.get(2)).doubleValue() * scale);
      int y = (int) (((Number) cell.get(3)).doubleValue() * scale);
      boolean unchanged = after.size() == cells.size() && state.equals(after.get(i));
      if (Boolean.TRUE.equals(cell.get(4))) visible++;
      if (unchanged && Boolean.TRUE.equals(cell.get(4)) && x < image.getWidth() && y < image.getHeight()) {
        int p = image.getRGB(x, y);
        assertColour(expected.get(state), "rgb(" + ((p >> 16) & 255) + ", " + ((p >> 8) & 255) + ", " + (p & 255) + ")",
            "pixel of a " + state + " cell in " + out);
        seen.add(state);
      }
    }
    looks.add(cells.size() + " cells, " + after.size() + " after, " + visible + " in view");
    return seen;
  }

  private static int[] rgb(String hex) {
    String h = hex.startsWith("#") ? hex.substring(1) : hex;
    assertEquals(6, h.length(), "a #rrggbb colour: " + hex);
    return new int[] {Integer.parseInt(h.substring(0, 2), 16), Integer.parseInt(h.substring(2, 4), 16),
        Integer.parseInt(h.substring(4, 6), 16)};
  }

  /** Compares an "rgb(r, g, b)" colour with the expected one, allowing 2 per channel for rendering. */
  private static void assertColour(int[] want, String actual, String what) {
    Matcher m = Pattern.compile("rgba?\\((\\d+), (\\d+), (\\d+)").matcher(actual);
    assertTrue(m.find(), what + ": not a colour: " + actual);
    for (int i = 0; i < 3; i++) {
      int got = Integer.parseInt(m.group(i + 1));
      assertTrue(Math.abs(got - want[i]) <= 2, what + ": " + actual + ", expected rgb(" + want[0] + ", " + want[1]
          + ", " + want[2] + ")");
    }
  }

  /** The overview card's progress in percent ("35.6% · 80k / 225k rows"). */
  private static double progress(WebDriver d) {
    Matcher m = Pattern.compile("([0-9.]+)%").matcher(text(d, ".jobcard .row.muted"));
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  /** Clicks a button after scrolling it to the middle of the view (the header is sticky). */
  private static void click(WebDriver d, String id) {
    WebElement e = d.findElement(By.id(id));
    ((JavascriptExecutor) d).executeScript("arguments[0].scrollIntoView({block: 'center'})", e);
    e.click();
  }
}
