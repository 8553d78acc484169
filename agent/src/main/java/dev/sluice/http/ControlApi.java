package dev.sluice.http;

import dev.sluice.command.OperatorCommand;
import dev.sluice.command.OperatorCommands;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Control while running: {@code POST /api/jobs/{job}/pause}, {@code /resume}, {@code /pace},
 * {@code /retry}, {@code /abort}, {@code /rollback} and {@code /complete}, each behind
 * {@link BearerAuth}. The body (a JSON object, optional except for pace) holds the command's
 * arguments; the command goes the one path every command goes ({@link OperatorCommands}: the same
 * rules, outcome and audit event as a dashboard command). The answer's status is the outcome's; its
 * body the outcome's figures, the job, and {@code message} (or {@code error} when refused).
 */
public final class ControlApi {
  private final OperatorCommands commands;
  private final BearerAuth auth;

  public ControlApi(OperatorCommands commands, BearerAuth auth) {
    this.commands = commands;
    this.auth = auth;
  }

  public void mount(Router router) {
    for (String action : OperatorCommand.ACTIONS) {
      router.post("/api/jobs/:job/" + action).handler(BodyHandler.create().setBodyLimit(4096)).handler(auth).handler(ctx -> {
        JsonObject body;
        try {
          body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
        } catch (DecodeException | ClassCastException e) {
          ControlServer.json(ctx, 400, new JsonObject().put("error", "the body must be a JSON object"));
          return;
        }
        String job = ctx.pathParam("job");
        String client = client(ctx);
        commands.run(job, action, body, "api (" + client + ")", client)
            .onSuccess(out -> ControlServer.json(ctx, out.status(), out.body(job)));
      });
    }
  }

  private static String client(RoutingContext ctx) {
    var a = ctx.request().remoteAddress();
    return a == null ? "unknown" : a.hostAddress();
  }
}
