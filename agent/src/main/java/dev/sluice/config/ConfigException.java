package dev.sluice.config;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown when a config is invalid; carries every problem found, not just the first. */
public final class ConfigException extends RuntimeException {
  private final List<ConfigProblem> problems;

  public ConfigException(List<ConfigProblem> problems) {
    super(problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public ConfigException(String path, String message) {
    this(List.of(new ConfigProblem(path, message)));
  }

  public List<ConfigProblem> problems() {
    return problems;
  }
}
