package dev.sluice.http;

import dev.sluice.command.CommandOutcome;
import dev.sluice.command.OperatorCommands;
import dev.sluice.metrics.LiveView;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /ws}: pushes the live view to dashboards and takes their commands.
 *
 * <p>Server to client: {@code hello} (history, recent events, what the agent can do), then a
 * {@code snapshot} at least once a second and on every state change, and a {@code result} for each
 * command. Client to server: {@code {"type":"command","id":1,"token":"..","action":"pause",
 * "job":"orders", ...}}; every command carries the bearer token and goes the same path as a REST
 * call ({@code command.OperatorCommands}: the same rules, outcome and audit event).
 * {@code {"type":"auth","token":".."}} only checks a token (the page's unlock button).
 *
 * <p>The upgrade is refused (403) when the {@code Origin} header names another site than the one
 * serving the page, unless listed in {@code http.corsOrigins}: a page elsewhere cannot drive the
 * agent through a browser that can reach it. Clients that send no Origin (not browsers) pass.
 */
final class DashboardSocket {
  private static final Logger log = LoggerFactory.getLogger(DashboardSocket.class);
  private final LiveView view;
  private final OperatorCommands commands;
  private final BearerAuth auth;
  private final List<String> allowedOrigins;

  DashboardSocket(LiveView view, OperatorCommands commands, BearerAuth auth, List<String> allowedOrigins) {
    this.view = view;
    this.commands = commands;
    this.auth = auth;
    this.allowedOrigins = allowedOrigins;
  }

  void upgrade(RoutingContext ctx) {
    String origin = ctx.request().getHeader("Origin");
    if (origin != null && !sameOrigin(origin, ctx.request().getHeader("Host")) && !allowedOrigins.contains(origin)) {
      log.warn("refused a WebSocket from origin {} ({}): not this agent's own page nor in http.corsOrigins",
          origin, ctx.request().remoteAddress());
      ctx.response().setStatusCode(403).end("origin not allowed");
      return;
    }
    ctx.request().toWebSocket().onSuccess(this::open).onFailure(e -> {
      if (!ctx.response().ended()) ctx.response().setStatusCode(400).end("WebSocket upgrade failed");
    });
  }

  /** The Origin names the host and port the request came to (the agent's own page). */
  static boolean sameOrigin(String origin, String host) {
    if (host == null) return false;
    try {
      URI u = URI.create(origin);
      if (u.getHost() == null) return false;
      int defaultPort = "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
      int originPort = u.getPort() < 0 ? defaultPort : u.getPort();
      int colon = host.lastIndexOf(':');
      boolean hasPort = colon > host.lastIndexOf(']');
      String hostName = hasPort ? host.substring(0, colon) : host;
      int hostPort = hasPort ? Integer.parseInt(host.substring(colon + 1)) : defaultPort;
      return u.getHost().equalsIgnoreCase(hostName) && originPort == hostPort;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private void open(ServerWebSocket ws) {
    String client = ws.remoteAddress() == null ? "unknown" : ws.remoteAddress().toString();
    String host = ws.remoteAddress() == null ? null : ws.remoteAddress().hostAddress();
    JsonObject hello = view.hello().put("control", new JsonObject().put("enabled", auth.enabled())
        .put("actions", OperatorCommands.capabilities()));
    ws.writeTextMessage(hello.encode());
    String latest = view.latest();
    if (latest != null) ws.writeTextMessage(latest);
    Runnable unlisten = view.listen(snapshot -> {
      // A client that cannot keep up skips snapshots rather than making the agent buffer them.
      if (!ws.isClosed() && !ws.writeQueueFull()) ws.writeTextMessage(snapshot);
    });
    ws.closeHandler(v -> unlisten.run());
    ws.exceptionHandler(e -> unlisten.run());
    ws.textMessageHandler(text -> command(ws, client, host, text));
  }

  private void command(ServerWebSocket ws, String client, String host, String text) {
    JsonObject msg;
    try {
      msg = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      reply(ws, null, new CommandOutcome(400, "malformed JSON"));
      return;
    }
    Object id = msg.getValue("id");
    if ("ping".equals(msg.getValue("type"))) {
      ws.writeTextMessage(new JsonObject().put("type", "pong").put("id", id).encode());
      return;
    }
    boolean authOnly = "auth".equals(msg.getValue("type"));
    if (!authOnly && !"command".equals(msg.getValue("type"))) {
      reply(ws, id, new CommandOutcome(400, "unknown message type (send {\"type\":\"command\", ...})"));
      return;
    }
    if (!auth.enabled()) {
      reply(ws, id, new CommandOutcome(403, "control is disabled: set http.token in the config or SLUICE_TOKEN"));
      return;
    }
    Object token = msg.getValue("token");
    if (!(token instanceof String t) || !auth.accepts("Bearer " + t)) {
      log.warn("refused a dashboard command from {}: missing or wrong token", client);
      reply(ws, id, new CommandOutcome(401, "missing or wrong token"));
      return;
    }
    if (authOnly) {
      reply(ws, id, new CommandOutcome(200, "token accepted: controls enabled"));
      return;
    }
    String action = msg.getValue("action") instanceof String a ? a : null;
    String job = msg.getValue("job") instanceof String j ? j : null;
    JsonObject args = msg.copy();
    args.remove("token");
    commands.run(job, action, args, "dashboard from " + client, host).onSuccess(out -> {
      log.info("dashboard command {} on job {} from {}: {}", action, job, client, out.message());
      reply(ws, id, out);
      if (out.ok()) view.refresh();
    });
  }

  private static void reply(ServerWebSocket ws, Object id, CommandOutcome out) {
    if (!ws.isClosed()) ws.writeTextMessage(out.json().put("type", "result").put("id", id).encode());
  }
}
