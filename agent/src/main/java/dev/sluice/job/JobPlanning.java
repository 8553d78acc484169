package dev.sluice.job;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.JobConfig;
import dev.sluice.copy.SegmentSql;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Ledger;
import dev.sluice.plan.Planner;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A job's plan: made and recorded in the ledger on first start; on later starts, checked against the config. */
final class JobPlanning {
  private static final Logger log = LoggerFactory.getLogger(JobPlanning.class);

  private JobPlanning() {}

  static Future<Void> planAndRecord(JobShape shape, SegmentSql sql, Pool source, Ledger ledger) {
    JobConfig job = shape.job();
    log.info("job {}: planning segments of {} rows over {}", job.name(), job.segmentRows(), job.source().table());
    long t0 = System.nanoTime();
    String ddl = !shape.targetExists() && job.target().create() ? sql.createTarget() : null;
    return new Planner(source).plan(shape)
        .compose(plan -> {
          log.info("job {}: planned {} segments in {} ms", job.name(), plan.size(), (System.nanoTime() - t0) / 1_000_000);
          return ledger.createJob(shape, ddl, plan);
        })
        .mapEmpty();
  }

  /** A job's source, target and key are fixed once planned; a config that changes them is refused. */
  static Future<Void> checkSameJob(Ledger.JobRow row, JobConfig job, JobShape shape, String path) {
    List<ConfigProblem> diffs = new ArrayList<>();
    String why = "; a planned job's source, target and key cannot change (use a new job name, or roll this one back first)";
    if (!row.sourceTable().equals(job.source().table().toString())) {
      diffs.add(new ConfigProblem(path + ".source.table", "job " + job.name() + " was planned for source table " + row.sourceTable() + why));
    }
    if (!row.targetTable().equals(job.target().table().toString())) {
      diffs.add(new ConfigProblem(path + ".target.table", "job " + job.name() + " was planned for target table " + row.targetTable() + why));
    }
    if (!row.keyColumns().equals(shape.sourceKey())) {
      diffs.add(new ConfigProblem(path + ".source.key", "job " + job.name() + " was planned with key " + row.keyColumns() + why));
    }
    return diffs.isEmpty() ? Future.succeededFuture() : Future.failedFuture(new ConfigException(diffs));
  }
}
