package dev.sluice.agent;

import dev.sluice.config.NotifyConfig;
import dev.sluice.config.SensorSpec;
import dev.sluice.config.SluiceConfig;
import dev.sluice.health.HealthMonitor;
import dev.sluice.http.ControlServer;
import dev.sluice.ledger.Reports;
import dev.sluice.ledger.TrafficLedger;
import dev.sluice.metrics.LiveView;
import dev.sluice.notify.JobNotifications;
import dev.sluice.notify.WebhookNotifier;
import dev.sluice.outlook.Advice;
import dev.sluice.outlook.FinalReports;
import dev.sluice.outlook.JobOutlook;
import dev.sluice.resilience.ErrorClassifier;
import dev.sluice.traffic.TrafficSampler;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's planning parts, wired once: the learned week's {@link TrafficSampler} (the source's
 * users, fed by the foreground sensors too), the webhooks ({@code notify.webhooks[]}) and the job
 * milestones posted to them, and the {@link JobOutlook} the live view ticks (finish dates, job
 * hours, milestones, final reports). Also what the HTTP server asks of them
 * ({@link ControlServer.Planning}: the advice, a job's report, its finish date).
 */
final class OutlookWiring implements ControlServer.Planning {
  private static final Logger log = LoggerFactory.getLogger(OutlookWiring.class);
  /** How long a stopping agent waits for its webhooks' last posts. */
  static final long NOTIFY_GRACE_MS = 5_000;
  private static final long PRUNE_MS = 6 * 3_600_000L;

  private final Vertx vertx;
  private final Supplier<SluiceConfig> config;
  private final Pool ledger;
  private final Pool source;
  private final Clock clock;
  private final TrafficSampler sampler;
  private final WebhookNotifier notifier;
  private final JobOutlook outlook;
  private LiveView liveView;
  private long pruneTimer = -1;

  OutlookWiring(Vertx vertx, Supplier<SluiceConfig> config, Pool ledger, Pool source, HealthMonitor health, Clock clock,
      LongSupplier nanos) {
    this.vertx = vertx;
    this.config = config;
    this.ledger = ledger;
    this.source = source;
    this.clock = clock;
    SluiceConfig cfg = config.get();
    String agent = cfg.agent().id();
    sampler = new TrafficSampler(vertx, cfg.source(), Advice.sourceName(cfg.source()), clock,
        health == null ? () -> 0L : health::sourceStatements, d -> TrafficLedger.record(ledger, d));
    if (health != null) {
      health.listenForeground((kind, value) -> {
        if (kind == SensorSpec.Kind.FOREGROUND) sampler.foreground(value);
        else sampler.probe(value);
      });
    }
    NotifyConfig n = cfg.notifications();
    List<WebhookNotifier.Target> targets = n.webhooks().stream()
        .map(w -> new WebhookNotifier.Target(w.url(), w.events(), w.tokenEnv(), w.tokenFile())).toList();
    notifier = targets.isEmpty() ? null : new WebhookNotifier(vertx, targets, agent, System::getenv, nanos);
    JobNotifications notes = notifier == null ? null : new JobNotifications(notifier,
        (job, key, kind) -> Reports.claimMilestone(ledger, agent, job, key, kind), clock, n.heldAfter());
    outlook = new JobOutlook(vertx, ledger, config, agent, clock, sampler, notes);
  }

  /** Starts sampling and posting, and hands the outlook to the live view (before it starts). */
  void start(LiveView view) {
    this.liveView = view;
    view.outlook(outlook);
    sampler.start();
    if (notifier != null) {
      notifier.start();
      log.info("notifications: {} webhook(s): {}", notifier.status().size(), notifier.status().stream()
          .map(o -> ((JsonObject) o).getString("url")).toList());
    }
    outlook.start();
    prune();
    pruneTimer = vertx.setPeriodic(PRUNE_MS, t -> prune());
  }

  private void prune() {
    TrafficLedger.prune(ledger).onFailure(e -> log.debug("traffic profile: prune failed: {}", ErrorClassifier.describe(e)));
  }

  /** After the live view's last tick: the reports being stored, the profile's last minute, the webhooks' last posts. */
  Future<Void> stop() {
    if (pruneTimer >= 0) vertx.cancelTimer(pruneTimer);
    outlook.stop();
    return outlook.settled()
        .transform(x -> sampler.stop().otherwiseEmpty())
        .transform(x -> notifier == null ? Future.succeededFuture() : notifier.stop(NOTIFY_GRACE_MS).otherwiseEmpty());
  }

  @Override
  public Future<JsonObject> advice() {
    return Advice.of(ledger, source, config.get(), clock.instant());
  }

  @Override
  public Future<JsonObject> report(String job) {
    return FinalReports.latest(ledger, config.get(), job);
  }

  @Override
  public JsonObject finish(String job) {
    return liveView == null ? null : liveView.finish(job);
  }

  @Override
  public JsonArray webhooks() {
    return notifier == null ? new JsonArray() : notifier.status();
  }
}
