package dev.sluice.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.embedded.EmbeddedDatabase;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice demo} from its own jar: it starts its PostgreSQL, seeds, migrates with the dashboard up,
 * and stops on SIGTERM; the production jar carries no PostgreSQL binaries and says where the demo is.
 */
@Tag("process")
class DemoIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  Path dir;

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static String get(String url) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : "";
    } catch (Exception e) {
      return "";
    }
  }

  @Test
  void theDemoJarMigratesItsOwnDatabase() throws Exception {
    String jar = System.getProperty("sluice.demo.jar");
    assertTrue(jar != null && new File(jar).isFile(), "sluice.demo.jar must name the built demo jar");
    int port = EmbeddedDatabase.freePort();
    Path log = dir.resolve("demo.log");
    Process p = new ProcessBuilder(java(), "-Xmx256m", "-jar", jar, "demo", "--rows", "20000", "--rate", "200000", "--port",
        String.valueOf(port)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
      String jobs = "";
      while (System.nanoTime() < end && p.isAlive()) {
        jobs = get("http://127.0.0.1:" + port + "/api/jobs");
        if (jobs.contains("\"in_sync\"") || jobs.contains("\"completed\"")) break;
        Thread.sleep(500);
      }
      String out = Files.readString(log);
      assertTrue(jobs.contains("\"in_sync\"") || jobs.contains("\"completed\""), "the demo's job never caught up:\n" + jobs + "\n" + out);
      assertTrue(out.contains("dashboard:   http://127.0.0.1:" + port + "/"), out);
      assertTrue(get("http://127.0.0.1:" + port + "/").contains("<html"), "the dashboard is served");
    } finally {
      long before = Files.size(log);
      p.destroy(); // SIGTERM, as Ctrl-C
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the demo stops on SIGTERM");
      byte[] all = Files.readAllBytes(log);
      String stop = new String(all, (int) before, all.length - (int) before, java.nio.charset.StandardCharsets.UTF_8);
      // The agent stops first, then its PostgreSQL: nothing is cut under a session on the way out.
      assertTrue(stop.lines().noneMatch(l -> l.contains(" WARN ") || l.contains(" ERROR ")), "the demo stops cleanly:\n" + stop);
    }
  }

  @Test
  void theProductionJarHasNoPostgresBinaries() throws Exception {
    Path agentJar = Path.of(System.getProperty("sluice.demo.jar")).getParent().resolve("../../agent/target/sluice.jar").normalize();
    assertTrue(Files.isRegularFile(agentJar), agentJar.toString());
    try (ZipFile z = new ZipFile(agentJar.toFile())) {
      List<String> pg = z.stream().map(e -> e.getName()).filter(n -> n.endsWith(".txz") || n.startsWith("io/zonky/")).toList();
      assertEquals(List.of(), pg, "the production jar carries the demo's PostgreSQL");
    }
    System.out.printf("production jar: %.1f MB; demo jar: %.1f MB%n", Files.size(agentJar) / 1e6,
        Files.size(Path.of(System.getProperty("sluice.demo.jar"))) / 1e6);
    Process p = new ProcessBuilder(java(), "-jar", agentJar.toString(), "demo").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue(), out);
    assertTrue(out.contains("bin/sluice demo"), out);
    assertFalse(out.contains("Exception"), out);
  }
}
