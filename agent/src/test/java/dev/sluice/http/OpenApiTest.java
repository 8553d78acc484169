package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.build.BuildInfo;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document the agent serves at {@code /api/openapi.json} describes exactly the routes its
 * router has: every route is documented, and every documented operation is a route. Wildcard routes
 * (handlers for every request, the static files, the {@code /api/*} catch-all) are not operations.
 */
class OpenApiTest {
  /** Routes that are not API operations, and why. */
  private static final Map<String, String> NOT_OPERATIONS = Map.of(
      "/api/", "/api/*: the body-size cap and the 404 catch-all of /api",
      "/webjars/", "/webjars/*: the chart library's static files (the dashboard, documented as GET /)",
      "/", "/*: the dashboard's static files (documented as GET /)");

  @Test
  void theDocumentMatchesTheRouter() {
    TestPg pg = TestPg.get();
    String src = pg.createDatabase("oapi_src");
    String tgt = pg.createDatabase("oapi_tgt");
    pg.exec(src, "CREATE TABLE t (id bigint PRIMARY KEY)", "INSERT INTO t VALUES (1)");
    String json = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"port": 0, "token": "0123456789abcdef0123"},
         "jobs": [{"name": "t", "source": {"table": "public.t", "key": ["id"]}, "target": {"table": "public.t", "create": true}}]}"""
        .formatted(pg.url(src), pg.url(tgt));
    Agent agent = Agents.start(json);
    try {
      Http.Response r = Http.get("http://127.0.0.1:" + agent.httpPort() + "/api/openapi.json");
      assertEquals(200, r.status());
      JsonObject doc = new JsonObject(r.body());
      assertEquals("3.1.0", doc.getString("openapi"));
      assertEquals(BuildInfo.CURRENT.version() + "+" + BuildInfo.CURRENT.commit(), doc.getJsonObject("info").getString("version"));

      TreeSet<String> documented = new TreeSet<>();
      JsonObject paths = doc.getJsonObject("paths");
      for (String path : paths.fieldNames()) {
        for (String method : paths.getJsonObject(path).fieldNames()) documented.add(method.toUpperCase(Locale.ROOT) + " " + path);
      }

      // The same router the agent serves, built by a second server on the same agent.
      SluiceConfig config = ConfigLoader.parse(json);
      ControlServer second = new ControlServer(agent.vertx(), config, agent.controlParts());
      Await.result(second.start(), 1, TimeUnit.MINUTES);
      TreeSet<String> routed = new TreeSet<>();
      try {
        for (Route route : second.routes()) {
          // Paths with parameters are regex routes to Vert.x; their name is the path as written (or as set).
          String path = route.getPath() != null ? route.getPath() : route.getName();
          if (path == null) continue; // a handler for every request (security headers, CORS)
          Set<HttpMethod> methods = route.methods();
          if (methods == null || methods.isEmpty()) {
            // route("/x/*"): every method, a path prefix (Vert.x keeps the path without its '*')
            assertTrue(NOT_OPERATIONS.containsKey(path), "a route for every method that is not a known prefix: " + path);
            continue;
          }
          assertTrue(path.startsWith("/"), "a regex route needs a name in OpenAPI form: " + route);
          path = path.replaceAll("/:([A-Za-z]+)", "/{$1}");
          for (HttpMethod m : methods) routed.add(m.name() + " " + path);
        }
      } finally {
        Await.result(second.stop(), 1, TimeUnit.MINUTES);
      }
      routed.add("GET /"); // served by the static route /*
      assertEquals(routed, documented, "operations in the router vs in agent/src/main/resources/openapi.json");
      System.out.println("OpenAPI operations checked against the router: " + documented);
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
