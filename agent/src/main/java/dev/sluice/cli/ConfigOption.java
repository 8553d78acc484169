package dev.sluice.cli;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.SluiceConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config F} option shared by every command that reads a config. */
public final class ConfigOption {
  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "JSON config file")
  Path file;

  public Path file() {
    return file;
  }

  /** Loads the config, or prints every problem and returns null. */
  public SluiceConfig load(PrintWriter err) {
    try {
      return ConfigLoader.load(file);
    } catch (ConfigException e) {
      report(err, file, e);
      return null;
    }
  }

  public static void report(PrintWriter err, Path file, ConfigException e) {
    err.println("sluice: invalid config " + file + " (" + e.problems().size() + " problem" + (e.problems().size() == 1 ? "" : "s") + "):");
    for (ConfigProblem p : e.problems()) err.println("  " + p);
    err.println("Nothing was written. Fix the config and run `sluice validate --config " + file + "` again.");
    err.flush();
  }
}
