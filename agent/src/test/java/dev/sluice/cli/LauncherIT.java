package dev.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import dev.sluice.testing.BuiltJar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/**
 * bin/sluice's class-data archive: recorded by a first `run`, used afterwards, and never able to
 * break a start (a stale, truncated or garbage archive is ignored; a JVM mapping a truncated one
 * would crash).
 */
@Tag("process")
class LauncherIT {
  @BeforeAll
  static void requireBuiltJar() {
    BuiltJar.path(); // failsafe runs it, after package; without the jar: fails under CI=true, skipped locally
  }

  @TempDir
  Path dir;
  Path cds;
  Path badConfig;
  String javaOpts;

  @BeforeEach
  void setUp() throws IOException {
    cds = dir.resolve("cds");
    badConfig = dir.resolve("bad.json");
    Files.writeString(badConfig, "{ \"nonsense\": true }");
  }

  private record Outcome(int rc, String out) {}

  private static String builtJar() {
    return BuiltJar.path();
  }

  private Outcome sluice(String... args) throws Exception {
    return sluiceWith(builtJar(), args);
  }

  private Outcome sluiceWith(String jar, String... args) throws Exception {
    Path launcher = Path.of("..", "bin", "sluice").toAbsolutePath().normalize();
    List<String> cmd = new java.util.ArrayList<>(List.of(launcher.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("SLUICE_JAR", jar);
    env.put("SLUICE_CDS_DIR", cds.toString());
    if (javaOpts != null) env.put("SLUICE_JAVA_OPTS", javaOpts);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Outcome(p.waitFor(), out);
  }

  private List<Path> archives() throws IOException {
    if (!Files.isDirectory(cds)) return List.of();
    try (Stream<Path> s = Files.list(cds)) {
      return s.filter(f -> f.toString().endsWith(".jsa")).toList();
    }
  }

  private List<Path> recordings() throws IOException {
    if (!Files.isDirectory(cds)) return List.of();
    try (Stream<Path> s = Files.list(cds)) {
      return s.filter(f -> f.toString().endsWith(".tmp")).toList();
    }
  }

  /** A first `run` records the archive as its JVM exits; the next start moves it into place. */
  private Path recorded() throws Exception {
    assertEquals(2, sluice("run", "--config", badConfig.toString()).rc());
    assertEquals(0, sluice("--version").rc());
    return archives().get(0);
  }

  @Test
  void firstRunRecordsTheArchiveAndLaterRunsUseIt() throws Exception {
    Outcome first = sluice("run", "--config", badConfig.toString());
    assertEquals(2, first.rc(), first.out()); // bad config: exits 2 having loaded the classes
    assertEquals(1, recordings().size(), "one recording, named after the JVM that wrote it: " + recordings());
    assertEquals(List.of(), archives(), "moved into place by the next start, not by the JVM that wrote it");
    assertFalse(first.out().contains("[cds"), "no CDS chatter: " + first.out());

    Outcome second = sluice("--version");
    assertEquals(0, second.rc(), second.out());
    List<Path> made = archives();
    assertEquals(1, made.size(), "one archive in place: " + made);
    assertEquals(List.of(), recordings());
    long size = Files.size(made.get(0));
    assertEquals(Long.toString(size), Files.readString(Path.of(made.get(0) + ".size")).trim());

    Outcome again = sluice("--version");
    assertEquals(0, again.rc(), again.out());
    assertVersionOfThisBuild(again.out());
    assertEquals(made, archives(), "the archive is kept, not recorded again");
  }

  /**
   * "sluice 0.1.0 (commit 1a2b3c4d5e6f)": the version Maven built (failsafe passes it in; else the
   * project's pom's) and the commit of this checkout, which the jar was built from (never "unknown").
   */
  private static void assertVersionOfThisBuild(String out) throws Exception {
    String version = System.getProperty("sluice.version");
    if (version == null || version.isBlank()) {
      Matcher pom = Pattern.compile("<artifactId>sluice-parent</artifactId>\\s*<version>([^<]+)</version>")
          .matcher(Files.readString(Path.of("..", "pom.xml")));
      assertTrue(pom.find(), "the project's version in pom.xml");
      version = pom.group(1);
    }
    assertFalse(version.startsWith("${") || version.equals("unknown"), version);
    Matcher m = Pattern.compile("(?m)^sluice " + Pattern.quote(version) + " \\(commit ([0-9a-f]{12})(-dirty)?\\)$").matcher(out);
    assertTrue(m.find(), "sluice " + version + " (commit <12 hex>[-dirty]) in: " + out);
    Process git = new ProcessBuilder("git", "rev-parse", "HEAD").directory(Path.of("..").toFile()).redirectErrorStream(true).start();
    String head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, git.waitFor(), "git rev-parse HEAD: " + head);
    assertTrue(head.startsWith(m.group(1)), "the commit of this checkout (" + head + "): " + out);
  }

  @Test
  void aTruncatedOrGarbageArchiveIsNeverUsed() throws Exception {
    Path archive = recorded();
    byte[] whole = Files.readAllBytes(archive);
    archive.toFile().setWritable(true);

    // Truncated (a writer killed half way): mapping it would crash the JVM; the size check refuses it.
    Files.write(archive, java.util.Arrays.copyOf(whole, whole.length / 3));
    Outcome truncated = sluice("--version");
    assertEquals(0, truncated.rc(), truncated.out());
    assertTrue(truncated.out().startsWith("sluice "), truncated.out());

    // Garbage of the recorded size: the JVM refuses its header and starts without it, quietly.
    byte[] junk = new byte[whole.length];
    new java.util.Random(7).nextBytes(junk);
    Files.write(archive, junk);
    Outcome garbage = sluice("--version");
    assertEquals(0, garbage.rc(), garbage.out());
    assertTrue(garbage.out().startsWith("sluice "), garbage.out());
  }

  @Test
  void anArchiveOfAnotherBuildIsIgnored() throws Exception {
    // An archive recorded for a jar, then found under the name of a rebuilt jar (same path, new
    // mtime): the JVM checks the jar itself and starts without the archive.
    Path jar = dir.resolve("sluice.jar");
    Files.copy(Path.of(builtJar()), jar);
    assertEquals(2, sluiceWith(jar.toString(), "run", "--config", badConfig.toString()).rc());
    assertEquals(0, sluiceWith(jar.toString(), "--version").rc());
    Path archive = archives().get(0);
    assertTrue(jar.toFile().setLastModified(jar.toFile().lastModified() - 60_000));
    String key = (jar.toFile().lastModified() / 1000) + "-" + Files.size(jar) + "-";
    Path stale = cds.resolve(archive.getFileName().toString().replaceFirst("^sluice-\\d+-\\d+-", "sluice-" + key));
    Files.move(archive, stale);
    Files.move(Path.of(archive + ".size"), Path.of(stale + ".size"));
    javaOpts = "-Xlog:cds+dynamic=warning"; // shows that the JVM was given the archive and refused it
    Outcome run = sluiceWith(jar.toString(), "--version");
    assertEquals(0, run.rc(), run.out());
    assertTrue(run.out().contains("failed to load"), run.out());
    assertTrue(run.out().contains("sluice "), run.out());
  }

  @Test
  void aTruncatedRecordingIsRemovedNotMovedIntoPlace() throws Exception {
    assertEquals(2, sluice("run", "--config", badConfig.toString()).rc());
    Path recording = recordings().get(0);
    byte[] whole = Files.readAllBytes(recording);
    recording.toFile().setWritable(true);
    // A JVM killed while it wrote the archive (its pid is gone: the one that wrote this one is).
    Files.write(recording, java.util.Arrays.copyOf(whole, whole.length / 3));
    Outcome next = sluice("--version");
    assertEquals(0, next.rc(), next.out());
    assertTrue(next.out().startsWith("sluice "), next.out());
    assertEquals(List.of(), recordings(), "the truncated recording is removed");
    assertEquals(List.of(), archives(), "and nothing is moved into place");
  }

  /**
   * The launcher execs java on every start, the first `run` (which records the archive) included: the
   * process a supervisor or a user signals is the agent itself. Before, the first run's JVM was a
   * child of the script, and a SIGKILL of the script (what `kill -9` of the pid one started does) left
   * the agent running, holding its leases and its HTTP port, beside the agent started next.
   */
  @Test
  void aSigkillOfTheFirstRunEndsTheAgentItself() throws Exception {
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      // A database that accepts connections and never answers: the agent waits in its checks.
      Thread accept = new Thread(() -> {
        List<java.net.Socket> held = new java.util.ArrayList<>();
        try {
          while (true) held.add(silent.accept());
        } catch (IOException closed) {
          held.forEach(h -> { try { h.close(); } catch (IOException ignored) { } });
        }
      });
      accept.setDaemon(true);
      accept.start();
      Path config = dir.resolve("silent-" + ProcessHandle.current().pid() + ".json");
      Files.writeString(config, """
          {"source": {"url": "postgresql://sluice@127.0.0.1:%d/app"}, "target": {"url": "postgresql://sluice@127.0.0.1:%d/archive"},
           "http": {"enabled": false},
           "jobs": [{"name": "t", "source": {"table": "public.t", "key": ["id"]}, "target": {"table": "public.t"}}]}"""
          .formatted(silent.getLocalPort(), silent.getLocalPort()));
      Path launcher = Path.of("..", "bin", "sluice").toAbsolutePath().normalize();
      ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "run", "--config", config.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("silent.log").toFile());
      pb.environment().put("SLUICE_JAR", builtJar());
      pb.environment().put("SLUICE_CDS_DIR", cds.toString()); // empty: this is a first run, which records
      Process p = pb.start();
      try {
        long deadline = System.nanoTime() + 30_000_000_000L;
        String command = "";
        while (System.nanoTime() < deadline && p.isAlive()) {
          command = p.info().command().orElse("");
          if (command.endsWith("/java")) break;
          Thread.sleep(50);
        }
        assertTrue(command.endsWith("/java"), "the launched process became the JVM: " + command + ", "
            + Files.readString(dir.resolve("silent.log")));
        assertEquals(0, p.descendants().count(), "no JVM under the launcher");
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        long left = ProcessHandle.allProcesses()
            .filter(h -> h.info().commandLine().orElse("").contains(config.toString())).count();
        assertEquals(0, left, "nothing left running for that config");
      } finally {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }
  }
}
