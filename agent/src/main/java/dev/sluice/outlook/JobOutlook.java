package dev.sluice.outlook;

import dev.sluice.config.JobConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.job.LiveFigures;
import dev.sluice.ledger.TrafficLedger;
import dev.sluice.metrics.JobMeters;
import dev.sluice.metrics.LiveView;
import dev.sluice.notify.JobNotifications;
import dev.sluice.notify.Milestones;
import dev.sluice.pace.Schedule;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.traffic.FinishForecast;
import dev.sluice.traffic.FinishWatch;
import dev.sluice.traffic.HourRecorder;
import dev.sluice.traffic.JobHour;
import dev.sluice.traffic.LoadProfile;
import dev.sluice.traffic.TrafficSampler;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent makes of each live tick ({@link LiveView.Outlook}): every job's finish date
 * ({@link FinishWatch}, over the jobs' learned hours reloaded from the ledger every
 * {@value #HISTORY_MS} ms), this agent's jobs' figures into the learned week ({@link TrafficSampler}),
 * milestones to the webhooks ({@link JobNotifications}), and the final report of a job that just
 * ended ({@link FinalReports}). Runs on the live view's event loop; nothing here waits on a receiver
 * or blocks.
 */
public final class JobOutlook implements LiveView.Outlook {
  private static final Logger log = LoggerFactory.getLogger(JobOutlook.class);
  static final long HISTORY_MS = 300_000;

  private final Vertx vertx;
  private final Pool ledger;
  private final Supplier<SluiceConfig> config;
  private final String agent;
  private final Clock clock;
  private final FinishWatch watch = new FinishWatch();
  private final TrafficSampler sampler;
  private final JobNotifications notifications;
  private final Set<Future<?>> pending = ConcurrentHashMap.newKeySet();
  private long historyTimer = -1;

  /** {@code sampler} and {@code notifications} may be null (not recorded, nothing posted). */
  public JobOutlook(Vertx vertx, Pool ledger, Supplier<SluiceConfig> config, String agent, Clock clock, TrafficSampler sampler,
      JobNotifications notifications) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.config = config;
    this.agent = agent;
    this.clock = clock;
    this.sampler = sampler;
    this.notifications = notifications;
  }

  public JobOutlook start() {
    loadHistory();
    historyTimer = vertx.setPeriodic(HISTORY_MS, t -> loadHistory());
    return this;
  }

  public void stop() {
    if (historyTimer >= 0) vertx.cancelTimer(historyTimer);
  }

  /** Completes when the reports being stored are (the agent waits for them before closing its pools). */
  public Future<Void> settled() {
    return Future.join(new ArrayList<>(pending)).otherwiseEmpty().mapEmpty();
  }

  /** Reloads the jobs' hours; each job's cells are folded in its own schedule's time zone. */
  private void loadHistory() {
    TrafficLedger.jobHours(ledger, null).onSuccess(hours -> {
      Map<String, List<JobHour>> byJob = new HashMap<>();
      for (JobHour h : hours) byJob.computeIfAbsent(h.job(), k -> new ArrayList<>()).add(h);
      Map<String, LoadProfile.JobCell[]> cells = new HashMap<>();
      Instant now = clock.instant();
      byJob.forEach((job, list) -> {
        LoadProfile.JobCell[] c = LoadProfile.of(List.of(), list, schedule(job).zone(), now).job(job);
        if (c != null) cells.put(job, c);
      });
      watch.history(cells);
    }).onFailure(e -> log.debug("finish dates: cannot read the jobs' hours: {}", ErrorClassifier.describe(e)));
  }

  private Schedule schedule(String job) {
    return config.get().job(job).map(j -> new Schedule(j.pacing().schedule())).orElse(Schedule.ALWAYS);
  }

  @Override
  public FinishWatch.Finish finish(JsonObject summary, JobMeters local, FinishForecast.Rates recent) {
    String job = summary.getString("name");
    JobConfig cfg = config.get().job(job).orElse(null);
    LiveFigures live = local == null ? null : local.live();
    Double configured = live != null ? live.rateBudget() : cfg == null ? null : cfg.pace().rowsPerSecond();
    long remaining = Math.max(0, summary.getLong("rowsPlanned", 0L) - summary.getLong("rowsCopied", 0L));
    return watch.update(new FinishWatch.JobNow(job, summary.getString("state"), summary.getBoolean("paused", false), remaining,
        schedule(job), configured, recent), clock.instant());
  }

  @Override
  public void ticked(JsonArray summary, JsonArray newEvents, Map<String, JobMeters> local) {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < summary.size(); i++) {
      JsonObject s = summary.getJsonObject(i);
      String job = s.getString("name");
      names.add(job);
      JobMeters m = local.get(job);
      LiveFigures live = m == null ? null : m.live();
      String state = s.getString("state");
      if (notifications != null) {
        notifications.tick(new Milestones.JobView(job, state, s.getLong("rowsCopied", 0L), s.getLong("rowsPlanned", 0L),
            live == null ? null : live.waitCode(), live == null ? null : live.waitingReason()));
      }
      if (sampler != null && live != null) {
        sampler.job(job, new HourRecorder.JobTick(live.rowsWritten(), live.writeSeconds(), "copying".equals(state), live.waitCode(),
            live.rateFactor(), live.rateLimit() == null ? Double.NaN : live.rateLimit(),
            live.backlog() == null ? Double.NaN : live.backlog().oldestAgeMs() / 1000.0));
      }
    }
    watch.retain(names);
    for (int i = 0; i < newEvents.size(); i++) {
      JsonObject e = newEvents.getJsonObject(i);
      String job = e.getString("job");
      if (job == null) continue;
      if (notifications != null) {
        notifications.event(job, new Milestones.AuditEvent(e.getLong("id"), e.getString("kind"), e.getInteger("segment"),
            e.getString("message"), e.getValue("details") instanceof JsonObject d ? d : null));
      }
      String kind = e.getString("kind", "");
      if (kind.startsWith("job.") && FinalReports.ENDINGS.contains(kind.substring(4))) report(job, kind.substring(4), e.getLong("id"));
    }
  }

  /** Stores the report of a job that ended (once across agents); kept in {@link #pending} until written. */
  public void report(String job, String outcome, long eventId) {
    Future<Boolean> f = FinalReports.storeOnce(ledger, config.get(), agent, job, outcome, eventId)
        .onSuccess(stored -> {
          if (stored) log.info("job {}: final report stored ({}); `sluice report --job {}` prints it", job, outcome, job);
        })
        .onFailure(err -> log.warn("job {}: cannot store the final report: {}", job, ErrorClassifier.describe(err)));
    pending.add(f);
    f.onComplete(x -> pending.remove(f));
  }

  /** Each job's latest finish date, for {@code /api/jobs}. */
  public FinishWatch.Finish latest(String job) {
    return watch.latest(job);
  }
}
