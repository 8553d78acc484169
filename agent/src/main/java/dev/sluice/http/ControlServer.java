package dev.sluice.http;

import dev.sluice.cache.JobReads;
import dev.sluice.command.OperatorCommands;
import dev.sluice.config.SluiceConfig;
import dev.sluice.job.LiveFigures;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.LiveReads;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
import dev.sluice.metrics.LiveView;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The agent's HTTP face: health probes, the job API read from the ledger (so any agent shows the
 * whole job), Prometheus metrics at {@code /metrics}, the dashboard's WebSocket at {@code /ws}, and
 * the dashboard's static assets (the chart library from its WebJar under {@code /webjars/}).
 *
 * <p>Security: binds to 127.0.0.1 unless configured otherwise; control needs the bearer token;
 * request bodies over {@code http.maxBodyBytes} get 413; no CORS unless {@code http.corsOrigins}
 * lists origins; pages may not be framed and load nothing from elsewhere (Content-Security-Policy);
 * malformed requests are refused before any handler by {@link RequestGuard}.
 */
public final class ControlServer {
  /**
   * What the server shows and drives: the ledger, the jobs running on this agent and their read
   * paths, the live view, the metrics' exposition, the config's status, and the operator commands.
   */
  public record Parts(Ledger ledger, Supplier<Map<String, Migrator>> jobs, Supplier<Map<String, JobReads>> reads, LiveView liveView,
      Supplier<String> metrics, Supplier<JsonObject> configStatus, OperatorCommands commands, Planning planning) {}

  /** What the planning parts answer: the advice, a job's final report, its finish date, the webhooks' counts (URLs redacted). */
  public interface Planning {
    Future<JsonObject> advice();

    /** The stored report, else one built now; null when the ledger does not know the job. */
    Future<JsonObject> report(String job);

    /** The job's latest finish date, or null. */
    JsonObject finish(String job);

    JsonArray webhooks();
  }

  private final Vertx vertx;
  private final SluiceConfig config;
  private final Parts parts;
  private HttpServer server;
  private Router router;

  public ControlServer(Vertx vertx, SluiceConfig config, Parts parts) {
    this.vertx = vertx;
    this.config = config;
    this.parts = parts;
  }

  public int port() {
    return server == null ? -1 : server.actualPort();
  }

  public Future<Void> start() {
    router = Router.router(vertx);
    int maxBody = config.http().maxBodyBytes();
    router.route().handler(ControlServer::securityHeaders);
    RequestGuard.mount(router);
    if (!config.http().corsOrigins().isEmpty()) {
      router.route().handler(CorsHandler.create().addOrigins(config.http().corsOrigins())
          .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST)).allowedHeaders(Set.of("Authorization", "Content-Type")));
    }
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(maxBody)).handler(RequestGuard::checkBody);
    BearerAuth auth = new BearerAuth(config.http().token());
    DashboardSocket socket = new DashboardSocket(parts.liveView(), parts.commands(), auth, config.http().corsOrigins());
    router.get("/ws").handler(socket::upgrade);
    router.get("/metrics").handler(ctx -> ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .end(parts.metrics().get()));
    router.get("/api/jobs/:job/segments/:seq").handler(this::segment);
    router.get("/api/config").handler(ctx -> json(ctx, 200, parts.configStatus().get()));
    router.get("/api/openapi.json").handler(ctx -> json(ctx, 200, OpenApi.document()));
    router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
    router.get("/api/jobs").handler(this::jobs);
    router.get("/api/agents").handler(this::agents);
    router.get("/api/jobs/:job/events").handler(this::events);
    router.get("/api/jobs/:job/report").handler(this::report);
    router.get("/api/advice").handler(this::advice);
    router.get("/api/notifications").handler(ctx -> json(ctx, 200, new JsonObject().put("webhooks", parts.planning().webhooks())));
    new ReadApi(parts.reads(), parts.ledger(), config.http().readToken(), config.http().token()).mount(router);
    new ControlApi(parts.commands(), auth).mount(router);
    router.route("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars").setMaxAgeSeconds(86_400));
    router.route("/api/*").handler(ctx -> json(ctx, 404, new JsonObject().put("error", "no such API: " + ctx.request().path())));
    router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false).setIndexPage("index.html"));
    HttpServerOptions options = new HttpServerOptions()
        .setMaxWebSocketFrameSize(maxBody)
        .setMaxWebSocketMessageSize(maxBody)
        .setMaxFormAttributeSize(maxBody);
    return vertx.createHttpServer(options)
        .requestHandler(router)
        .listen(config.http().port(), config.http().host())
        .onSuccess(s -> server = s)
        .mapEmpty();
  }

  /** The routes, for the test that checks them against the OpenAPI document. */
  java.util.List<io.vertx.ext.web.Route> routes() {
    return router == null ? java.util.List.of() : router.getRoutes();
  }

  public Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void ready(RoutingContext ctx) {
    parts.ledger().pool().query("SELECT 1").execute()
        .onSuccess(r -> json(ctx, 200, new JsonObject().put("status", "UP").put("jobs", parts.jobs().get().size())))
        .onFailure(e -> json(ctx, 503, new JsonObject().put("status", "DOWN").put("reason", "ledger unreachable: " + ErrorClassifier.describe(e))));
  }

  /** Every agent working (or recently seen) on this ledger, from the ledger: any agent shows them all. */
  private void agents(RoutingContext ctx) {
    Roster.agents(parts.ledger().pool())
        .compose(arr -> Roster.rowWrites(parts.ledger().pool()).map(w -> new JsonObject()
            .put("self", parts.ledger().agentId()).put("agents", arr).put("ledgerRowWrites", w)))
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(e -> json(ctx, 503, new JsonObject().put("error", "ledger unreachable: " + ErrorClassifier.describe(e))));
  }

  private void jobs(RoutingContext ctx) {
    Ledger.summary(parts.ledger().pool()).compose(arr -> Roster.agents(parts.ledger().pool()).map(agents -> {
      for (int i = 0; i < arr.size(); i++) arr.getJsonObject(i).put("agents", JobAgents.of(arr.getJsonObject(i).getString("name"), agents));
      return arr;
    })).onSuccess(arr -> {
      JsonArray out = new JsonArray();
      for (int i = 0; i < arr.size(); i++) {
        JsonObject j = arr.getJsonObject(i);
        Migrator m = parts.jobs().get().get(j.getString("name"));
        if (m != null) {
          LiveFigures f = m.live();
          j.put("agent", new JsonObject()
              .put("id", f.agentId())
              .put("rowsWritten", f.rowsWritten())
              .put("rowsPerSecond", Math.round(f.rowsPerSecond()))
              .put("segmentsInFlight", f.inFlight())
              .put("rateLimit", f.rateLimit())
              .put("baseRate", f.baseRate())
              .put("rateFactor", f.rateFactor())
              .put("rateReason", f.rateReason())
              .put("concurrencyLimit", f.concurrencyLimit())
              .put("batchRows", f.batchRows())
              .put("waitingReason", f.waitingReason())
              .put("serverSide", f.serverSide()));
          if (f.backlog() != null) j.put("capture", f.backlog().json().put("wal", f.wal() == null ? null : f.wal().json()));
        }
        JsonObject finish = parts.planning().finish(j.getString("name"));
        if (finish != null) {
          j.put("finishAt", finish.getString("at"));
          j.put("finish", finish);
        }
        out.add(j);
      }
      json(ctx, 200, new JsonObject().put("jobs", out));
    }).onFailure(e -> json(ctx, 503, new JsonObject().put("error", "ledger unreachable: " + ErrorClassifier.describe(e))));
  }

  /** The job's final report (JSON; {@code sluice report} prints it as Markdown); before the job ends, one built now. */
  private void report(RoutingContext ctx) {
    String job = ctx.pathParam("job");
    parts.planning().report(job)
        .onSuccess(r -> {
          if (r == null) json(ctx, 404, new JsonObject().put("error", "no job " + job + " in the ledger"));
          else json(ctx, 200, r);
        })
        .onFailure(e -> json(ctx, 503, new JsonObject().put("error", "ledger unreachable: " + ErrorClassifier.describe(e))));
  }

  /** Proposed windows and rate for each job, with the reasoning and the learned week (the dashboard's week strip). */
  private void advice(RoutingContext ctx) {
    parts.planning().advice()
        .onSuccess(a -> json(ctx, 200, a))
        .onFailure(e -> json(ctx, 503, new JsonObject().put("error", "cannot read the traffic profile: " + ErrorClassifier.describe(e))));
  }

  private void events(RoutingContext ctx) {
    long after;
    try {
      after = Long.parseLong(ctx.queryParam("after").isEmpty() ? "0" : ctx.queryParam("after").get(0));
    } catch (NumberFormatException e) {
      json(ctx, 400, new JsonObject().put("error", "after must be a whole number"));
      return;
    }
    LiveReads.events(parts.ledger().pool(), ctx.pathParam("job"), after, 500)
        .onSuccess(arr -> json(ctx, 200, new JsonObject().put("events", arr)))
        .onFailure(e -> json(ctx, 503, new JsonObject().put("error", ErrorClassifier.describe(e))));
  }

  private void segment(RoutingContext ctx) {
    int seq;
    try {
      seq = Integer.parseInt(ctx.pathParam("seq"));
    } catch (NumberFormatException e) {
      json(ctx, 400, new JsonObject().put("error", "segment must be a whole number"));
      return;
    }
    LiveReads.segment(parts.ledger().pool(), ctx.pathParam("job"), seq)
        .onSuccess(s -> {
          if (s == null) json(ctx, 404, new JsonObject().put("error", "no segment " + seq + " in job " + ctx.pathParam("job")));
          else json(ctx, 200, s);
        })
        .onFailure(e -> json(ctx, 503, new JsonObject().put("error", ErrorClassifier.describe(e))));
  }

  /** The page and its scripts come from this agent only; nothing may frame it. */
  private static void securityHeaders(RoutingContext ctx) {
    ctx.response()
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
            + "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    ctx.next();
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }
}
