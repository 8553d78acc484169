package dev.sluice.http;

import dev.sluice.command.OperatorCommands;
import dev.sluice.agent.Agent;
import dev.sluice.job.Migrator;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Control while running: {@code POST /api/jobs/{job}/pause}, {@code /resume}, {@code /pace} and
 * {@code /retry}, each behind {@link BearerAuth}. Every call is recorded in the ledger's audit trail
 * with the client's address (besides the state change it causes, which has its own event).
 *
 * <p>Bodies (JSON, all optional except for pace): pause {@code {"reason": "..."}}; pace
 * {@code {"rowsPerSecond": 5000}} ({@code null} removes the limit; the job's budget for all its
 * agents, kept in the ledger); retry {@code {"segment": 12}} (without it, every failed segment).
 */
public final class ControlApi {
  private final Agent agent;
  private final BearerAuth auth;
  private final OperatorCommands actions;

  public ControlApi(Agent agent, BearerAuth auth) {
    this.agent = agent;
    this.auth = auth;
    this.actions = new OperatorCommands(agent.vertx(), agent.ledger(), agent::migrators, agent::rollback);
  }

  public void mount(Router router) {
    for (String action : new String[] {"pause", "resume", "pace", "retry", "abort"}) {
      router.post("/api/jobs/:job/" + action).handler(BodyHandler.create().setBodyLimit(4096)).handler(auth).handler(ctx -> {
        Migrator m = agent.migrators().get(ctx.pathParam("job"));
        if (m == null) {
          ControlServer.json(ctx, 404, new JsonObject().put("error", "no job \"" + ctx.pathParam("job") + "\" runs on this agent"));
          return;
        }
        JsonObject body;
        try {
          body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
        } catch (DecodeException | ClassCastException e) {
          ControlServer.json(ctx, 400, new JsonObject().put("error", "the body must be a JSON object"));
          return;
        }
        if (body == null) body = new JsonObject();
        String actor = "api (" + client(ctx) + ")";
        Future<JsonObject> result;
        try {
          result = switch (action) {
            case "pause" -> pause(m, body, actor);
            case "resume" -> m.setPaused(false, null, actor).map(v -> new JsonObject().put("paused", false));
            case "pace" -> pace(m, body, actor);
            case "abort" -> abort(m, body, actor);
            default -> retry(m, body, actor);
          };
        } catch (BadRequest e) {
          ControlServer.json(ctx, 400, new JsonObject().put("error", e.getMessage()));
          return;
        }
        JsonObject details = body.copy().put("client", client(ctx));
        result
            .compose(out -> agent.ledger().event(m.name(), null, "control." + action,
                "control " + action + " on job " + m.name() + " by " + actor, details).map(out))
            .onSuccess(out -> ControlServer.json(ctx, out.containsKey("error") ? 409 : 200, out.put("job", m.name())))
            .onFailure(e -> ControlServer.json(ctx, 503, new JsonObject().put("error", "ledger unreachable: " + ErrorClassifier.describe(e))));
      });
    }
  }

  private Future<JsonObject> abort(Migrator m, JsonObject body, String actor) {
    Object r = body.getValue("reason");
    if (r != null && !(r instanceof String)) throw new BadRequest("reason must be a string");
    return actions.run("abort", m.name(), body, actor).map(out -> out.ok()
        ? new JsonObject().put("aborted", true).put("message", out.message())
        : new JsonObject().put("error", out.message()));
  }

  private static Future<JsonObject> pause(Migrator m, JsonObject body, String actor) {
    Object r = body.getValue("reason");
    if (r != null && !(r instanceof String)) throw new BadRequest("reason must be a string");
    String reason = r == null || ((String) r).isBlank() ? null : ((String) r).strip();
    if (reason != null && reason.length() > 500) throw new BadRequest("reason must be at most 500 characters");
    return m.setPaused(true, reason, actor).map(v -> new JsonObject().put("paused", true).put("reason", reason));
  }

  private Future<JsonObject> pace(Migrator m, JsonObject body, String actor) {
    if (!body.containsKey("rowsPerSecond")) throw new BadRequest("send {\"rowsPerSecond\": N} (N > 0, or null for unpaced)");
    Object v = body.getValue("rowsPerSecond");
    Double rate;
    if (v == null) {
      rate = null;
    } else if (v instanceof Number n && n.doubleValue() > 0 && n.doubleValue() <= 1e9) {
      rate = n.doubleValue();
    } else {
      throw new BadRequest("rowsPerSecond must be a number between 0 (exclusive) and 1e9, or null (got " + v + ")");
    }
    // The job's budget, recorded in the ledger: every agent of the job takes it up (as from the dashboard).
    return actions.run("pace", m.name(), new JsonObject().put("rowsPerSecond", rate), actor).map(out -> {
      JsonObject j = new JsonObject().put("rowsPerSecond", rate).put("effectiveRowsPerSecond", m.pacer().rate()).put("message", out.message());
      return out.ok() ? j : j.put("error", out.message());
    });
  }

  private static Future<JsonObject> retry(Migrator m, JsonObject body, String actor) {
    Object s = body.getValue("segment");
    if (s != null && !(s instanceof Integer)) throw new BadRequest("segment must be a whole number");
    Integer seq = (Integer) s;
    return m.retry(seq, actor).map(n -> n > 0 ? new JsonObject().put("queued", n)
        : new JsonObject().put("queued", 0).put("error", seq == null ? "job " + m.name() + " has no failed segment"
            : "segment " + seq + " of job " + m.name() + " is not failed (only failed segments can be retried)"));
  }

  private static String client(RoutingContext ctx) {
    var a = ctx.request().remoteAddress();
    return a == null ? "unknown" : a.hostAddress();
  }

  private static final class BadRequest extends RuntimeException {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }
}
