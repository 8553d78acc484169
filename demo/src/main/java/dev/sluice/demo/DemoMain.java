package dev.sluice.demo;

import dev.sluice.Main;
import picocli.CommandLine;

/**
 * {@code sluice-demo.jar}: the agent's command line with the real {@code demo} command, which brings its
 * own PostgreSQL (zonky's embedded binaries, 14 MB that the production jar does not carry).
 */
public final class DemoMain {
  private DemoMain() {}

  public static void main(String[] args) {
    CommandLine cli = Main.commandLine(null, null);
    cli.getCommandSpec().removeSubcommand("demo");
    cli.addSubcommand("demo", new DemoCommand());
    System.exit(cli.execute(args));
  }
}
