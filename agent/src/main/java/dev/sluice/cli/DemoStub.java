package dev.sluice.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Unmatched;

/**
 * {@code sluice demo} in the production jar, which carries no PostgreSQL: says where the demo is. The
 * demo jar ({@code demo/target/sluice-demo.jar}) replaces this command with the real one.
 */
@Command(name = "demo", description = "The self-contained demo: run it with bin/sluice demo (it is in demo/target/sluice-demo.jar).")
public final class DemoStub implements Callable<Integer> {
  @Unmatched
  java.util.List<String> ignored;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("sluice: the demo is not in this jar (the production jar carries no PostgreSQL): run "
        + "bin/sluice demo, which builds and runs demo/target/sluice-demo.jar");
    return ExitCode.BAD_CONFIG;
  }
}
