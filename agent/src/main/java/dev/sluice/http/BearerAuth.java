package dev.sluice.http;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Guards control routes with {@code Authorization: Bearer <token>}. The token comes from
 * {@code http.token} or {@code SLUICE_TOKEN}; with none configured, control is off and every call
 * gets 403 (never open). A missing or wrong token gets 401. Tokens are compared in constant time
 * (over SHA-256 digests, so not even the length leaks) and never logged or echoed.
 */
public final class BearerAuth implements Handler<RoutingContext> {
  private static final String PREFIX = "Bearer ";
  private final byte[] expected;

  /** {@code token} null or empty: control is disabled. */
  public BearerAuth(String token) {
    this.expected = token == null || token.isEmpty() ? null : digest(token);
  }

  public boolean enabled() {
    return expected != null;
  }

  /** True when the header carries the configured token. */
  public boolean accepts(String authorizationHeader) {
    if (expected == null || authorizationHeader == null) return false;
    if (authorizationHeader.length() < PREFIX.length() || !authorizationHeader.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      return false;
    }
    String presented = authorizationHeader.substring(PREFIX.length()).trim();
    return MessageDigest.isEqual(expected, digest(presented));
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (expected == null) {
      deny(ctx, 403, "control is disabled: set http.token in the config or SLUICE_TOKEN in the agent's environment");
      return;
    }
    if (!accepts(ctx.request().getHeader("Authorization"))) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"sluice\"");
      deny(ctx, 401, "missing or wrong bearer token (send Authorization: Bearer <token>)");
      return;
    }
    ctx.next();
  }

  private static void deny(RoutingContext ctx, int status, String why) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", why).encode());
  }

  private static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
