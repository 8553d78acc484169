package dev.sluice.copy;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.JobConfig;

/**
 * Which path a job's rows take, and why, in a sentence {@code validate} and the start-up log print.
 *
 * <ul>
 *   <li>{@code SERVER_SIDE}: source and target in one database ({@code mode: auto}) or
 *       {@code mode: server}: one {@code INSERT .. SELECT} a segment, nothing through the agent.
 *   <li>{@code COPY}: across databases (or {@code mode: client}): COPY out of the source's snapshot,
 *       COPY into the target, the bytes streamed through the agent undecoded.
 *   <li>{@code ROWS}: batches of rows as arrays through {@code unnest} inserts: {@code mode: rows}.
 * </ul>
 */
public record PathChoice(Kind kind, String why) {
  public enum Kind {
    SERVER_SIDE("server-side INSERT .. SELECT"),
    COPY("COPY protocol"),
    ROWS("row batches (unnest inserts)");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** {@code "COPY protocol: source and target are different databases"}. */
  public String describe() {
    return kind.label() + ": " + why;
  }

  public static PathChoice of(JobConfig.CopyMode mode, boolean sameDatabase, DatabaseConfig source, DatabaseConfig target) {
    if (mode == JobConfig.CopyMode.SERVER) return new PathChoice(Kind.SERVER_SIDE, "mode is \"server\"");
    if (mode == JobConfig.CopyMode.AUTO && sameDatabase) {
      return new PathChoice(Kind.SERVER_SIDE, "source and target are one database (mode \"auto\")");
    }
    if (mode == JobConfig.CopyMode.ROWS) return new PathChoice(Kind.ROWS, "mode is \"rows\"");
    return new PathChoice(Kind.COPY, mode == JobConfig.CopyMode.CLIENT ? "mode is \"client\""
        : "source and target are different databases (mode \"auto\")");
  }
}
