package dev.sluice.agent;

import dev.sluice.cache.JobReads;
import dev.sluice.config.ConfigDiff;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigWatcher;
import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.health.HealthMonitor;
import dev.sluice.inspect.JobShape;
import dev.sluice.job.Migrator;
import dev.sluice.job.Replanner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Puts a reloaded config in force (the {@link ConfigWatcher} read, validated and diffed it): new jobs
 * are checked against the databases first, on a worker (any problem refuses the whole reload,
 * nothing changed), then existing jobs take their new settings and the new jobs start. Only jobs and
 * the health sensors' settings change: the rest of the file cannot differ (ConfigDiff refused it).
 */
final class Reload implements ConfigWatcher.Applier {
  private final Vertx vertx;
  private final Supplier<SluiceConfig> current;
  private final Consumer<SluiceConfig> inForce;
  private final HealthMonitor health;
  private final JobWiring jobs;
  private final Replanner replanner;

  /** {@code health} null: no sensors to reconfigure. {@code inForce} takes the merged config once applied. */
  Reload(Vertx vertx, Supplier<SluiceConfig> current, Consumer<SluiceConfig> inForce, HealthMonitor health, JobWiring jobs,
      Replanner replanner) {
    this.vertx = vertx;
    this.current = current;
    this.inForce = inForce;
    this.health = health;
    this.jobs = jobs;
    this.replanner = replanner;
  }

  @Override
  public Future<Void> apply(SluiceConfig next, ConfigDiff.Result diff) {
    SluiceConfig config = current.get();
    SluiceConfig merged = new SluiceConfig(config.source(), config.target(), config.http(), config.agent(), next.jobs(),
        next.health(), config.breaker(), config.sessions(), config.notifications());
    boolean healthChanged = health != null && !next.health().equals(config.health());
    if (healthChanged && !HealthMonitor.ids(next.health()).equals(HealthMonitor.ids(config.health()))) {
      return Future.failedFuture(new ConfigException("health", "sensors " + HealthMonitor.ids(config.health()) + " -> "
          + HealthMonitor.ids(next.health()) + ": adding or removing a sensor needs a restart (thresholds and timings reload live)"));
    }
    List<JobConfig> added = next.jobs().stream().filter(j -> diff.addedJobs().contains(j.name())).toList();
    Future<List<JobShape>> shapes = added.isEmpty() ? Future.succeededFuture(List.of())
        : vertx.executeBlocking(() -> Validation.check(vertx, new SluiceConfig(config.source(), config.target(), config.http(),
            config.agent(), added, config.health(), config.breaker(), config.sessions(), config.notifications())), false);
    return shapes.compose(newShapes -> {
      if (healthChanged) health.reconfigure(next.health());
      for (JobConfig j : next.jobs()) {
        Migrator m = jobs.migrators().get(j.name());
        if (m == null) continue;
        long segmentRows = m.config().segmentRows();
        m.reconfigure(j);
        JobReads r = jobs.reads().get(j.name());
        if (r != null) r.applyConfig(j);
        // Pending segments nobody started are re-cut at the new size (in the background: the walk reads the source).
        if (segmentRows != j.segmentRows()) replanner.replan(m.shape(), segmentRows, j.segmentRows());
      }
      inForce.accept(merged);
      List<Future<Void>> starts = new ArrayList<>();
      for (JobShape shape : newShapes) {
        int index = next.jobs().indexOf(shape.job());
        starts.add(jobs.add(shape, index).start());
      }
      return Future.all(starts).mapEmpty();
    });
  }
}
