package dev.sluice.build;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The build this agent came from, as Maven wrote it into {@code dev/sluice/build/build.properties}: the
 * project's version and the git commit (12 hex digits, {@code -dirty} when the tree had uncommitted
 * changes, {@code unknown} when built outside a git checkout). Shown by {@code sluice --version},
 * {@code GET /api/agents}, the ledger's agent roster and the {@code sluice_build_info} metric.
 */
public record BuildInfo(String version, String commit) {
  public static final BuildInfo CURRENT = load();

  private static BuildInfo load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
      if (in != null) p.load(in);
    } catch (IOException e) {
      // below: unknown
    }
    String version = clean(p.getProperty("version"));
    String commit = clean(p.getProperty("commit"));
    // git describe failed (not a repository): its message is not a commit.
    if (!commit.matches("[0-9a-f]{7,40}(-dirty)?")) commit = "unknown";
    return new BuildInfo(version, commit);
  }

  /** An unfiltered {@code ${...}} (a build that skipped resource filtering) reads as unknown. */
  private static String clean(String s) {
    return s == null || s.isBlank() || s.startsWith("${") ? "unknown" : s.trim();
  }

  /** "sluice 0.1.0 (commit 1a2b3c4d5e6f)". */
  public String line() {
    return "sluice " + version + " (commit " + commit + ")";
  }
}
