package dev.sluice.http;

import dev.sluice.command.OperatorCommands;
import dev.sluice.agent.Agent;
import dev.sluice.config.SluiceConfig;
import dev.sluice.job.Migrator;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.Roster;
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
import java.util.Set;

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
  private final Vertx vertx;
  private final SluiceConfig config;
  private final Agent agent;
  private HttpServer server;
  private Router router;

  public ControlServer(Vertx vertx, SluiceConfig config, Agent agent) {
    this.vertx = vertx;
    this.config = config;
    this.agent = agent;
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
    OperatorCommands actions = new OperatorCommands(vertx, agent.ledger(), agent::migrators, agent::rollback);
    DashboardSocket socket = new DashboardSocket(agent.liveView(), actions, auth, config.http().corsOrigins());
    router.get("/ws").handler(socket::upgrade);
    router.get("/metrics").handler(ctx -> ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .end(agent.metrics().scrape()));
    router.get("/api/jobs/:job/segments/:seq").handler(this::segment);
    router.get("/api/config").handler(ctx -> json(ctx, 200, agent.configStatus()));
    router.get("/api/openapi.json").handler(ctx -> json(ctx, 200, OpenApi.document()));
    router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
    router.get("/api/jobs").handler(this::jobs);
    router.get("/api/agents").handler(this::agents);
    router.get("/api/jobs/:job/events").handler(this::events);
    new ReadApi(agent::reads, agent.ledger(), config.http().readToken(), config.http().token()).mount(router);
    new ControlApi(agent, new BearerAuth(config.http().token())).mount(router);
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
    agent.ledger().pool().query("SELECT 1").execute()
        .onSuccess(r -> json(ctx, 200, new JsonObject().put("status", "UP").put("jobs", agent.migrators().size())))
        .onFailure(e -> json(ctx, 503, new JsonObject().put("status", "DOWN").put("reason", "ledger unreachable: " + ErrorClassifier.describe(e))));
  }

  /** Every agent working (or recently seen) on this ledger, from the ledger: any agent shows them all. */
  private void agents(RoutingContext ctx) {
    Roster.agents(agent.ledger().pool())
        .compose(arr -> Roster.rowWrites(agent.ledger().pool()).map(w -> new JsonObject()
            .put("self", agent.ledger().agentId()).put("agents", arr).put("ledgerRowWrites", w)))
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(e -> json(ctx, 503, new JsonObject().put("error", "ledger unreachable: " + ErrorClassifier.describe(e))));
  }

  private void jobs(RoutingContext ctx) {
    Ledger.summary(agent.ledger().pool()).compose(arr -> Roster.agents(agent.ledger().pool()).map(agents -> {
      for (int i = 0; i < arr.size(); i++) arr.getJsonObject(i).put("agents", JobAgents.of(arr.getJsonObject(i).getString("name"), agents));
      return arr;
    })).onSuccess(arr -> {
      JsonArray out = new JsonArray();
      for (int i = 0; i < arr.size(); i++) {
        JsonObject j = arr.getJsonObject(i);
        Migrator m = agent.migrators().get(j.getString("name"));
        if (m != null) {
          j.put("agent", new JsonObject()
              .put("id", agent.ledger().agentId())
              .put("rowsWritten", m.stats().rows())
              .put("rowsPerSecond", Math.round(m.stats().rowsPerSecond()))
              .put("segmentsInFlight", m.stats().inFlight().get())
              .put("rateLimit", m.pacer().rate())
              .put("baseRate", m.pace().baseRate())
              .put("rateFactor", m.pace().factor())
              .put("rateReason", m.pace().factorReason())
              .put("concurrencyLimit", m.pace().concurrency())
              .put("batchRows", m.pace().batchRows())
              .put("waitingReason", m.waitingReason())
              .put("serverSide", m.serverSide()));
          if (m.catchUp() != null && m.catchUp().enabled()) j.put("capture", m.catchUp().applier().backlog().json());
        }
        out.add(j);
      }
      json(ctx, 200, new JsonObject().put("jobs", out));
    }).onFailure(e -> json(ctx, 503, new JsonObject().put("error", "ledger unreachable: " + ErrorClassifier.describe(e))));
  }

  private void events(RoutingContext ctx) {
    long after;
    try {
      after = Long.parseLong(ctx.queryParam("after").isEmpty() ? "0" : ctx.queryParam("after").get(0));
    } catch (NumberFormatException e) {
      json(ctx, 400, new JsonObject().put("error", "after must be a whole number"));
      return;
    }
    Ledger.events(agent.ledger().pool(), ctx.pathParam("job"), after, 500)
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
    dev.sluice.ledger.LiveReads.segment(agent.ledger().pool(), ctx.pathParam("job"), seq)
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
