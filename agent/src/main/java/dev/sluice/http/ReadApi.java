package dev.sluice.http;

import dev.sluice.cache.JobReads;
import dev.sluice.cache.ReadRouter;
import dev.sluice.cache.SegmentCache;
import dev.sluice.ledger.Ledger;
import dev.sluice.resilience.ErrorClass;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The read API (docs/cutover.md): rows of a job's table, served from the cache, the target or the
 * source according to the job's read rollout; the response header {@code X-Sluice-Served-From} says
 * which. Reads need {@code http.readToken} when one is set; changing the rollout needs the control
 * token.
 *
 * <pre>
 *   GET  /api/jobs/{job}/rows/{key}        key parts comma-separated, each percent-encoded
 *   POST /api/jobs/{job}/rows:batchGet     {"keys": [k, ...]}; k a string/number, or an array of them
 *   GET  /api/jobs/{job}/reads             rollout, cache and read statistics
 *   POST /api/jobs/{job}/reads             {"targetPercent": n}   (control token)
 * </pre>
 */
public final class ReadApi {
  public static final String SERVED_FROM = "X-Sluice-Served-From";
  public static final String COHORT = "X-Sluice-Cohort";

  private final Supplier<Map<String, JobReads>> jobs;
  private final Ledger ledger;
  private final BearerAuth readAuth;
  private final BearerAuth control;

  public ReadApi(Supplier<Map<String, JobReads>> jobs, Ledger ledger, String readToken, String controlToken) {
    this.jobs = jobs;
    this.ledger = ledger;
    this.readAuth = new BearerAuth(readToken);
    this.control = new BearerAuth(controlToken);
  }

  /** Adds the routes; mount after the server's body handler for /api/* (it caps bodies) and before any catch-all. */
  public void mount(Router router) {
    // ':' marks a path parameter in Vert.x Web route paths, hence a regex for rows:batchGet.
    // Named as in the OpenAPI document (api/openapi.json), which a test checks against the routes.
    router.postWithRegex("/api/jobs/(?<job>[^/]+)/rows:batchGet").setName("/api/jobs/{job}/rows:batchGet")
        .handler(this::readAuth).handler(this::batchGet);
    router.getWithRegex("/api/jobs/(?<job>[^/]+)/rows/(?<key>.+)").setName("/api/jobs/{job}/rows/{key}")
        .handler(this::readAuth).handler(this::get);
    router.get("/api/jobs/:job/reads").handler(this::status);
    router.post("/api/jobs/:job/reads").handler(control).handler(this::setRollout);
  }

  private void readAuth(RoutingContext ctx) {
    if (!readAuth.enabled() || readAuth.accepts(ctx.request().getHeader("Authorization"))) {
      ctx.next();
      return;
    }
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"sluice-reads\"");
    error(ctx, 401, "missing or wrong read token (send Authorization: Bearer <http.readToken>)");
  }

  private JobReads job(RoutingContext ctx) {
    String name = ctx.pathParam("job");
    JobReads j = jobs.get().get(name);
    if (j == null) error(ctx, 404, "no job named \"" + name + "\" runs on this agent");
    return j;
  }

  private void get(RoutingContext ctx) {
    JobReads job = job(ctx);
    if (job == null) return;
    // The raw path: Vert.x decodes path parameters, which would turn an encoded ',' into a separator.
    String path = ctx.request().path();
    String raw = path.substring(path.indexOf("/rows/") + "/rows/".length());
    List<String> key;
    try {
      key = job.router().codec().fromPath(raw);
    } catch (IllegalArgumentException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    job.router().read(List.of(key)).onComplete(ar -> {
      if (ar.failed()) {
        failed(ctx, ar.cause());
        return;
      }
      ReadRouter.Served s = ar.result().get(0);
      ctx.response().putHeader(SERVED_FROM, s.from().header()).putHeader(COHORT, Integer.toString(s.cohort()));
      if (s.row() == null) {
        error(ctx, 404, "no row with key " + s.key() + " in the " + (s.from() == ReadRouter.From.SOURCE ? "source" : "target"));
      } else {
        ctx.response().putHeader("content-type", "application/json").end(s.row());
      }
    });
  }

  private void batchGet(RoutingContext ctx) {
    JobReads job = job(ctx);
    if (job == null) return;
    JsonArray keys;
    try {
      JsonObject body = ctx.body().asJsonObject();
      keys = body == null ? null : body.getJsonArray("keys");
    } catch (DecodeException | ClassCastException e) {
      error(ctx, 400, "the body must be a JSON object {\"keys\": [...]}");
      return;
    }
    int max = job.router().config().batchMax();
    if (keys == null) {
      error(ctx, 400, "the body must be a JSON object {\"keys\": [...]}");
      return;
    }
    if (keys.size() > max) {
      error(ctx, 400, "at most " + max + " keys a batch (reads.batchMax); got " + keys.size());
      return;
    }
    List<List<String>> parsed = new ArrayList<>(keys.size());
    for (int i = 0; i < keys.size(); i++) {
      try {
        parsed.add(job.router().codec().fromJson(keys.getValue(i)));
      } catch (IllegalArgumentException e) {
        error(ctx, 400, "keys[" + i + "]: " + e.getMessage());
        return;
      }
    }
    if (parsed.isEmpty()) {
      ctx.response().putHeader("content-type", "application/json").end("{\"rows\":[]}");
      return;
    }
    job.router().read(parsed).onComplete(ar -> {
      if (ar.failed()) {
        failed(ctx, ar.cause());
        return;
      }
      // Rows are spliced in as PostgreSQL printed them: re-parsing would round big numerics.
      StringBuilder out = new StringBuilder("{\"rows\":[");
      for (int i = 0; i < ar.result().size(); i++) {
        ReadRouter.Served s = ar.result().get(i);
        if (i > 0) out.append(',');
        out.append("{\"key\":").append(Json.encode(s.key())).append(",\"cohort\":").append(s.cohort())
            .append(",\"servedFrom\":\"").append(s.from().header()).append("\",\"row\":").append(s.row() == null ? "null" : s.row()).append('}');
      }
      ctx.response().putHeader("content-type", "application/json").end(out.append("]}").toString());
    });
  }

  private void status(RoutingContext ctx) {
    JobReads job = job(ctx);
    if (job == null) return;
    ReadRouter r = job.router();
    JsonObject out = new JsonObject()
        .put("job", r.job())
        .put("targetPercent", r.rollout().targetPercent())
        .put("effectivePercent", r.rollout().effectivePercent())
        .put("pausedReason", r.rollout().pausedReason())
        .put("shadowPercent", r.config().shadowPercent())
        .mergeIn(r.stats().json());
    SegmentCache c = r.cache();
    if (c != null) {
      var st = c.stats();
      out.put("cache", new JsonObject().put("enabled", c.enabled()).put("live", c.live()).put("entries", c.size()).put("weightBytes", c.weightedSize()).put("maxBytes", c.maxBytes())
          .put("maxEntries", c.maxEntries()).put("hits", st.hitCount()).put("misses", st.missCount()).put("hitRatio", st.hitRate())
          .put("evictions", st.evictionCount()));
    }
    ctx.response().putHeader("content-type", "application/json").end(out.encode());
  }

  private void setRollout(RoutingContext ctx) {
    JobReads job = job(ctx);
    if (job == null) return;
    Integer pct;
    try {
      JsonObject body = ctx.body().asJsonObject();
      Object v = body == null ? null : body.getValue("targetPercent");
      pct = v instanceof Integer i ? i : v instanceof Long l && l >= 0 && l <= 100 ? Integer.valueOf(l.intValue()) : null;
    } catch (DecodeException | ClassCastException e) {
      pct = null;
    }
    if (pct == null || pct < 0 || pct > 100) {
      error(ctx, 400, "the body must be {\"targetPercent\": n} with n a whole number from 0 to 100");
      return;
    }
    int before = job.router().rollout().effectivePercent();
    job.router().rollout().setTargetPercent(pct);
    String who = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    int now = pct;
    ledger.event(job.router().job(), null, "reads.target_percent", "read rollout of job " + job.router().job() + " set from " + before
            + "% to " + now + "% of key cohorts by " + who, new JsonObject().put("from", before).put("to", now).put("client", who))
        .onComplete(ar -> ctx.response().putHeader("content-type", "application/json")
            .end(new JsonObject().put("targetPercent", now).put("effectivePercent", job.router().rollout().effectivePercent()).encode()));
  }

  private static void failed(RoutingContext ctx, Throwable e) {
    if (e instanceof ReadRouter.BadKey || e instanceof IllegalArgumentException) {
      error(ctx, 400, e.getMessage());
    } else {
      // A read the database did not finish within http.readTimeoutMs (57014), a silent database (DatabaseStalled), a
      // read pool too busy to take it in time, a breaker: worth a retry a moment later; a missing table or grant is not.
      String m = String.valueOf(e.getMessage());
      String hint = e instanceof PgException pg && "57014".equals(pg.getSqlState()) && m.contains("statement timeout")
          ? " (the read took longer than http.readTimeoutMs: a lock on the table, or an overloaded database?)"
          : m.contains("waiting for connection") || m.contains("wait queue")
              ? " (the read pool's connections were all busy for http.readTimeoutMs: more reads at once than the database answers)" : "";
      if (!ctx.response().ended() && ErrorClassifier.classify(e) == ErrorClass.TRANSIENT) ctx.response().putHeader("Retry-After", "1");
      error(ctx, 503, "cannot read the row now: " + ErrorClassifier.describe(e) + hint);
    }
  }

  private static void error(RoutingContext ctx, int status, String message) {
    if (ctx.response().ended()) return;
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(new JsonObject().put("error", message).encode());
  }
}
