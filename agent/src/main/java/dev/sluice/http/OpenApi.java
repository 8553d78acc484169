package dev.sluice.http;

import dev.sluice.build.BuildInfo;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The OpenAPI 3.1 description of the agent's HTTP API ({@code openapi.json} in the jar, served at
 * {@code /api/openapi.json} with this build's version). {@code OpenApiTest} checks it against the routes.
 */
final class OpenApi {
  private static final JsonObject DOCUMENT = load();

  private OpenApi() {}

  static JsonObject document() {
    return DOCUMENT.copy();
  }

  private static JsonObject load() {
    try (InputStream in = OpenApi.class.getResourceAsStream("/openapi.json")) {
      if (in == null) throw new IllegalStateException("openapi.json is missing from the jar");
      JsonObject doc = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      doc.getJsonObject("info").put("version", BuildInfo.CURRENT.version() + "+" + BuildInfo.CURRENT.commit());
      return doc;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
