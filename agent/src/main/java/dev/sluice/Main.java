package dev.sluice;

import dev.sluice.build.BuildInfo;
import dev.sluice.cli.AbortCommand;
import dev.sluice.cli.AdviseCommand;
import dev.sluice.cli.CleanupCommand;
import dev.sluice.cli.PauseCommand;
import dev.sluice.cli.ResumeCommand;
import dev.sluice.cli.ReportCommand;
import dev.sluice.cli.CompleteCommand;
import dev.sluice.cli.DemoStub;
import dev.sluice.cli.ExitCode;
import dev.sluice.cli.RetryCommand;
import dev.sluice.cli.RollbackCommand;
import dev.sluice.cli.RunCommand;
import dev.sluice.cli.StatusCommand;
import dev.sluice.cli.ValidateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code sluice}: the command line. Exit codes: 0 success, 1 finished with failed segments, 2 bad
 * usage or bad config (nothing written), 3 runtime failure (a database unreachable while running).
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Moves table data between PostgreSQL databases gradually, verifiably and resumably.",
    // The README's order.
    subcommands = {RunCommand.class, ValidateCommand.class, StatusCommand.class, CompleteCommand.class, RollbackCommand.class,
        AbortCommand.class, CleanupCommand.class, AdviseCommand.class, ReportCommand.class, PauseCommand.class, ResumeCommand.class,
        RetryCommand.class, DemoStub.class})
public final class Main implements Runnable {
  public static final int OK = ExitCode.OK;
  public static final int FAILED_SEGMENTS = ExitCode.FAILED_SEGMENTS;
  public static final int BAD_CONFIG = ExitCode.BAD_CONFIG;
  public static final int RUNTIME_FAILURE = ExitCode.RUNTIME_FAILURE;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    java.util.List<String> names = spec.subcommands().keySet().stream().filter(n -> !n.equals("help")).toList();
    String list = String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    throw new CommandLine.ParameterException(spec.commandLine(), "name a command: " + list);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    return execute(null, null, args);
  }

  /** Runs a command with its output and errors sent to the given writers (null: the process's own). */
  public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
    return commandLine(out, err).execute(args);
  }

  /** The command line, for {@link #execute} and for the demo jar, which replaces the {@code demo} command. */
  public static CommandLine commandLine(java.io.PrintWriter out, java.io.PrintWriter err) {
    CommandLine cli = new CommandLine(new Main());
    if (out != null) cli.setOut(out);
    if (err != null) cli.setErr(err);
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("sluice: " + e.getMessage());
      return RUNTIME_FAILURE;
    });
    return cli;
  }

  /** {@code sluice --version}: "sluice 0.1.0 (commit 1a2b3c4d5e6f)", from the build. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {BuildInfo.CURRENT.line()};
    }
  }
}
