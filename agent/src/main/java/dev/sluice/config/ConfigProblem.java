package dev.sluice.config;

/** One thing wrong with a config, located by its JSON path (for example {@code jobs[0].source.key}). */
public record ConfigProblem(String path, String message) {
  @Override
  public String toString() {
    return path.isEmpty() ? message : path + ": " + message;
  }
}
