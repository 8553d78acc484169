package dev.sluice.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's Chromium, headless, driven by its chromedriver, for the dashboard's browser tests; and what
 * those tests read of a page the way a person sees it. Reads run as one script each: the dashboard
 * re-renders parts of itself every second, so an element found in one call may be gone in the next.
 */
public final class Browser {
  private static final File CHROMIUM = new File("/usr/bin/chromium");
  private static final File DRIVER = new File("/usr/bin/chromedriver");

  private Browser() {}

  /** With {@code CI=true} a missing browser fails the test; elsewhere it is skipped. */
  public static void require() {
    if (CHROMIUM.canExecute() && DRIVER.canExecute()) return;
    String why = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)";
    if ("true".equals(System.getenv("CI"))) fail(why);
    Assumptions.abort(why);
  }

  /** A new headless browser, 1280x800, no sandbox (tests may run as root). */
  public static WebDriver start() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage", "--window-size=1280,800", "--hide-scrollbars");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  /** Whether an element takes room on the page and is not hidden. */
  public static boolean visible(WebDriver d, String selector) {
    return Boolean.TRUE.equals(script(d, """
        const e = document.querySelector(arguments[0]);
        if (!e) return false;
        const r = e.getBoundingClientRect(), st = getComputedStyle(e);
        return r.width > 0 && r.height > 0 && st.visibility === 'visible' && st.display !== 'none' && parseFloat(st.opacity) > 0;""",
        selector));
  }

  /** An element's text, trimmed ("" when there is none). */
  public static String text(WebDriver d, String selector) {
    Object t = script(d, "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : ''", selector);
    return t == null ? "" : t.toString();
  }

  public static Object script(WebDriver d, String js, Object... args) {
    return ((JavascriptExecutor) d).executeScript(js, args);
  }

  /** Saves what the browser shows to {@code target/<name>}. */
  public static void screenshot(WebDriver driver, String name) throws Exception {
    File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), Path.of("target", name), StandardCopyOption.REPLACE_EXISTING);
  }
}
