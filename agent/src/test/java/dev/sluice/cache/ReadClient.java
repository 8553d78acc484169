package dev.sluice.cache;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** A blocking HTTP client of the read API, for tests. */
final class ReadClient {
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final String readToken;

  ReadClient(int port, String readToken) {
    this.base = "http://127.0.0.1:" + port;
    this.readToken = readToken;
  }

  record Response(int status, String servedFrom, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  Response get(String job, List<String> keyParts) {
    return send(request("/api/jobs/" + job + "/rows/" + KeyCodec.toPath(keyParts), readToken).GET().build());
  }

  /** The rows of a batch, each {key, cohort, servedFrom, row}. */
  JsonArray batchGet(String job, JsonArray keys) {
    Response r = send(request("/api/jobs/" + job + "/rows:batchGet", readToken)
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("keys", keys).encode())).build());
    if (r.status() != 200) throw new AssertionError("batchGet: " + r.status() + " " + r.body());
    return r.json().getJsonArray("rows");
  }

  Response setTargetPercent(String job, int percent, String controlToken) {
    return send(request("/api/jobs/" + job + "/reads", controlToken)
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("targetPercent", percent).encode())).build());
  }

  JsonObject status(String job) {
    return send(request("/api/jobs/" + job + "/reads", null).GET().build()).json();
  }

  Response post(String path, String body, String token) {
    return send(request(path, token).POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  Response raw(String path, String token) {
    return send(request(path, token).GET().build());
  }

  private HttpRequest.Builder request(String path, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) b.header("Authorization", "Bearer " + token);
    return b;
  }

  private Response send(HttpRequest req) {
    try {
      HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.headers().firstValue("X-Sluice-Served-From").orElse(null), r.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
