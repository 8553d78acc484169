package dev.sluice.cli;

/**
 * The CLI's exit codes: 0 success, 1 finished with failed segments, 2 bad usage, bad config or a
 * command refused (nothing written), 3 runtime failure (a database unreachable while running).
 */
public final class ExitCode {
  public static final int OK = 0;
  public static final int FAILED_SEGMENTS = 1;
  public static final int BAD_CONFIG = 2;
  public static final int RUNTIME_FAILURE = 3;

  private ExitCode() {}
}
