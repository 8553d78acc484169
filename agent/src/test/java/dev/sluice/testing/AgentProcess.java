package dev.sluice.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Sluice agent as its own process ({@code java -jar sluice.jar ...}), for tests that kill or freeze it. */
public final class AgentProcess implements AutoCloseable {
  private static final Pattern HTTP = Pattern.compile("http://[0-9.]+:(\\d+)/");
  private final Process process;
  private final Path log;
  private final String name;

  private AgentProcess(Process process, Path log, String name) {
    this.process = process;
    this.log = log;
    this.name = name;
  }

  /** Starts {@code sluice <args>} with its output (stdout and stderr) in {@code dir/name.log}. */
  public static AgentProcess start(Path dir, String name, String... args) throws IOException {
    String jar = BuiltJar.path();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar));
    cmd.addAll(List.of(args));
    Path log = dir.resolve(name + ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new AgentProcess(p, log, name);
  }

  public long pid() {
    return process.pid();
  }

  public String name() {
    return name;
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "";
    }
  }

  /** The HTTP port the agent logged at start (it binds port 0), waiting up to {@code seconds}. */
  public int httpPort(int seconds) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      Matcher m = HTTP.matcher(log());
      if (m.find()) return Integer.parseInt(m.group(1));
      if (!process.isAlive()) break;
      Thread.sleep(100);
    }
    throw new IllegalStateException(name + " logged no HTTP port:\n" + log());
  }

  public void signal(String sig) throws IOException, InterruptedException {
    int rc = new ProcessBuilder("kill", "-" + sig, Long.toString(pid())).inheritIO().start().waitFor();
    if (rc != 0) throw new IllegalStateException("kill -" + sig + " " + pid() + " failed: " + rc);
  }

  public void killHard() throws InterruptedException {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }

  /** Waits for the process to exit; returns its exit code, or fails with its log. */
  public int awaitExit(int seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " still running after " + seconds + " s:\n" + tail());
    }
    return process.exitValue();
  }

  public String tail() {
    String l = log();
    return l.length() <= 6000 ? l : l.substring(l.length() - 6000);
  }

  public boolean alive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
