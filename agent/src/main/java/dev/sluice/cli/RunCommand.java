package dev.sluice.cli;

import dev.sluice.agent.Agent;
import dev.sluice.config.ConfigException;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.resilience.ErrorClassifier;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the configured jobs (resumes from the ledger).")
public final class RunCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Option(names = "--until-done", description = "Exit once every job is finished: 0 if all completed and verified, 1 if any segment failed.")
  boolean untilDone;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    SluiceConfig cfg = config.load(spec.commandLine().getErr());
    if (cfg == null) return ExitCode.BAD_CONFIG;
    return run(new Agent(cfg).watching(config.file()), config.file(), untilDone, spec.commandLine().getOut(), spec.commandLine().getErr());
  }

  /** Starts an agent and runs it until done (or until the process is asked to stop). */
  public static int run(Agent agent, java.nio.file.Path configFile, boolean untilDone, java.io.PrintWriter out,
      java.io.PrintWriter err) {
    return run(agent, configFile, untilDone, out, err, () -> {});
  }

  /**
   * The same, and {@code afterStop} runs once the agent has stopped, whichever way it stops (on a
   * signal, in the same shutdown hook, so after the agent: the demo's embedded PostgreSQL, which the
   * agent's sessions must leave first, or it logs them as lost and cannot stop at once).
   */
  public static int run(Agent agent, java.nio.file.Path configFile, boolean untilDone, java.io.PrintWriter out,
      java.io.PrintWriter err, Runnable afterStop) {
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      try {
        Await.result(agent.stop(), 30, TimeUnit.SECONDS);
      } catch (RuntimeException e) {
        // best effort on the way out
      }
      afterStop.run();
      stopped.countDown();
    }, "sluice-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Await.result(agent.start());
    } catch (ConfigException e) {
      ConfigOption.report(err, configFile == null ? java.nio.file.Path.of("(config)") : configFile, e);
      stopQuietly(agent, hook, afterStop);
      return ExitCode.BAD_CONFIG;
    } catch (RuntimeException e) {
      // A failure Sluice put in words is printed as such, without the exception's class name.
      err.println("sluice: cannot start: " + (e instanceof IllegalStateException && e.getMessage() != null ? e.getMessage()
          : ErrorClassifier.describe(e)));
      err.flush();
      stopQuietly(agent, hook, afterStop);
      return ExitCode.RUNTIME_FAILURE;
    }
    if (!untilDone) {
      try {
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return ExitCode.OK;
    }
    Map<String, JobState> states = Await.result(agent.untilDone(), 365, TimeUnit.DAYS);
    stopQuietly(agent, hook, afterStop);
    boolean allCompleted = states.values().stream().allMatch(s -> s == JobState.COMPLETED);
    states.forEach((job, st) -> out.println("job " + job + ": " + st.db()));
    out.flush();
    return allCompleted ? ExitCode.OK : ExitCode.FAILED_SEGMENTS;
  }

  private static void stopQuietly(Agent agent, Thread hook, Runnable afterStop) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      return; // already shutting down; the hook stops the agent
    }
    try {
      Await.result(agent.stop(), 30, TimeUnit.SECONDS);
    } catch (RuntimeException e) {
      // nothing more to do
    }
    afterStop.run();
  }
}
