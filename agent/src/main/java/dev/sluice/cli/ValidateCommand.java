package dev.sluice.cli;

import dev.sluice.agent.Validation;
import dev.sluice.config.ConfigException;
import dev.sluice.config.JobConfig;
import dev.sluice.copy.CopyPaths;
import dev.sluice.copy.PathChoice;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.Planner;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Check connectivity, tables, keys and columns, and print the plan. Writes nothing anywhere.")
public final class ValidateCommand implements Callable<Integer> {
  @Mixin
  ConfigOption config;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    SluiceConfig cfg = config.load(err);
    if (cfg == null) return ExitCode.BAD_CONFIG;
    Vertx vertx = Vertx.vertx();
    try {
      java.util.Map<String, dev.sluice.capture.CaptureChoice> captures = new java.util.HashMap<>();
      java.util.Map<String, String> transports = new java.util.HashMap<>();
      List<JobShape> shapes = Validation.check(vertx, cfg, captures, transports);
      PrintWriter out = spec.commandLine().getOut();
      out.println("config " + config.file() + " is valid");
      out.println("source " + cfg.source().redacted() + ", target " + cfg.target().redacted()
          + (cfg.sameDatabase() ? " (same database)" : ""));
      out.println("  source: " + transports.get("source"));
      out.println("  target: " + transports.get("target"));
      for (JobShape s : shapes) {
        print(out, cfg, s);
        var c = captures.get(s.job().name());
        out.println("  capture: " + (c == null ? "off (capture.enabled is false)" : c.describe()));
      }
      out.flush();
      return ExitCode.OK;
    } catch (ConfigException e) {
      ConfigOption.report(err, config.file(), e);
      return ExitCode.BAD_CONFIG;
    } finally {
      Await.result(vertx.close());
    }
  }

  static void print(PrintWriter out, SluiceConfig cfg, JobShape s) {
    JobConfig j = s.job();
    long rows = Math.round(s.estimatedRows());
    long segments = Planner.estimateSegments(s.estimatedRows(), j.segmentRows());
    out.printf("job %s: %s -> %s%s%n", j.name(), j.source().table(), j.target().table(),
        s.targetExists() ? "" : " (will be created)");
    out.printf("  key: %s%n", String.join(", ", s.sourceKey()));
    if (j.source().where() != null) out.printf("  where: %s%n", j.source().where());
    for (JobShape.Column c : s.columns()) {
      out.printf("  column %s <- %s :: %s%s%n", c.name(), c.expression(), c.type(), c.key() ? " (key)" : "");
    }
    PathChoice path = PathChoice.of(j.mode(), cfg.sameDatabase(), cfg.source(), cfg.target());
    // How the rows travel is the path line's: a word here said "client copy" for row batches too.
    out.printf("  plan: ~%d rows in ~%d segments of %d rows, batches of %d, %d at a time%n", rows, segments,
        j.segmentRows(), j.batchRows(), CopyPaths.concurrency(j, path));
    out.printf("  path: %s%n", path.describe());
    out.printf("  verification: %s%n", verification(j, path));
    if (j.pace().rowsPerSecond() != null) {
      double secs = rows / j.pace().rowsPerSecond();
      out.printf("  estimated time at %.0f rows/s: %s%n", j.pace().rowsPerSecond(), duration(secs));
    } else {
      out.println("  unpaced: the rate is bounded only by the databases");
    }
  }

  /** What proves the job's rows, as this path does it. */
  static String verification(JobConfig j, PathChoice path) {
    String each = !j.verify().perSegment()
        ? "per segment off: a segment counts on the target's own count of rows stored, nothing is read back"
        : path.kind() == PathChoice.Kind.COPY
        ? "each segment read back from the target with COPY, its count and XXH3 hash sum compared with the copy's"
        : "each segment's count and row hash computed in SQL on the target, compared with the copy's";
    return each + (j.verify().finalPass() ? "; a final pass once in sync" : "; no final pass");
  }

  static String duration(double secs) {
    long s = Math.round(secs);
    if (s < 60) return s + " s";
    if (s < 3600) return (s / 60) + " min " + (s % 60) + " s";
    return (s / 3600) + " h " + ((s % 3600) / 60) + " min";
  }
}
