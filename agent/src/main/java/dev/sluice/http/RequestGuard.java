package dev.sluice.http;

import dev.sluice.config.JobConfig;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a request that cannot be a good one before any handler reads it, so a client's mistake
 * (or a scanner's flood) never reaches the database and never fills the log:
 * <ul>
 *   <li>a path or query whose percent-escapes are malformed ({@code %Hz}), decode to invalid UTF-8
 *       or to a control character (NUL among them): 400;</li>
 *   <li>a job name in {@code /api/jobs/{job}/..} that no config can hold ({@link JobConfig#NAME}): 404;</li>
 *   <li>a JSON body of an API call with a NUL in a string: 400 (PostgreSQL text cannot hold one).</li>
 * </ul>
 * What Vert.x Web answers itself (a malformed escape it meets first, a body over the limit, no route)
 * gets the same short JSON error and one DEBUG line, never a stack trace; only a 500 (a bug in Sluice)
 * is logged as an error.
 */
final class RequestGuard {
  private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);
  private static final String JOBS = "/api/jobs/";

  private RequestGuard() {}

  /** Mounts the checks (call before any other route) and the JSON answers for router failures. */
  static void mount(Router router) {
    router.route().handler(RequestGuard::check);
    for (int status = 400; status < 432; status++) {
      int code = status;
      router.errorHandler(code, ctx -> clientError(ctx, code));
    }
    router.errorHandler(500, ctx -> {
      log.error("request {} {} failed", ctx.request().method(), printable(ctx.request().path()), ctx.failure());
      answer(ctx, 500, "internal error (the agent's log has the details)");
    });
  }

  /** For after the body handler on /api/*: a NUL in any string of a JSON body is refused. */
  static void checkBody(RoutingContext ctx) {
    if (ctx.body() != null && ctx.body().length() > 0) {
      Object value;
      try {
        value = Json.decodeValue(ctx.body().buffer());
      } catch (DecodeException e) {
        ctx.next(); // not JSON: the handler says what it expects
        return;
      }
      if (hasNul(value)) {
        refuse(ctx, 400, "strings must not contain NUL (\\u0000)");
        return;
      }
    }
    ctx.next();
  }

  /** Whether a decoded JSON value holds a NUL character in any string or field name. */
  static boolean hasNul(Object value) {
    if (value instanceof String s) return s.indexOf('\0') >= 0;
    if (value instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        if (e.getKey().indexOf('\0') >= 0 || hasNul(e.getValue())) return true;
      }
    } else if (value instanceof JsonArray a) {
      for (Object v : a) {
        if (hasNul(v)) return true;
      }
    }
    return false;
  }

  private static void check(RoutingContext ctx) {
    String path = ctx.request().path();
    String query = ctx.request().query();
    String decoded = decode(path);
    if (decoded == null || (query != null && decode(query) == null)) {
      refuse(ctx, 400, "malformed request: the path or query has a bad percent-escape, invalid UTF-8 or a control character");
      return;
    }
    if (path.startsWith(JOBS) && path.length() > JOBS.length()) {
      int end = path.indexOf('/', JOBS.length());
      String job = decode(path.substring(JOBS.length(), end < 0 ? path.length() : end)); // an escaped '/' stays in the name
      if (job == null || !JobConfig.NAME.matcher(job).matches()) {
        refuse(ctx, 404, "no such job: a job name matches " + JobConfig.NAME.pattern());
        return;
      }
    }
    ctx.next();
  }

  /**
   * The text {@code raw} percent-decodes to, or null when an escape is malformed, the bytes are not
   * UTF-8, or a character is a control character or not printable ASCII where it is not escaped.
   */
  static String decode(String raw) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) return null;
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) return null;
        bytes.write(hi * 16 + lo);
        i += 2;
      } else if (c > 0x20 && c < 0x7f) {
        bytes.write(c);
      } else {
        return null;
      }
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    for (int i = 0; i < text.length(); i++) {
      if (Character.isISOControl(text.charAt(i))) return null;
    }
    return text;
  }

  /** A failure Vert.x Web answered with a 4xx status (it set none of its own body). */
  private static void clientError(RoutingContext ctx, int status) {
    String reason = status == 413 ? "request body too large" : HttpResponseStatus.valueOf(status).reasonPhrase().toLowerCase();
    if (log.isDebugEnabled()) {
      log.debug("{} {} {}: {}", status, ctx.request().method(), printable(ctx.request().path()),
          ctx.failure() == null ? reason : ctx.failure().toString());
    }
    answer(ctx, status, reason);
  }

  private static void refuse(RoutingContext ctx, int status, String message) {
    if (log.isDebugEnabled()) log.debug("{} {} {}: {}", status, ctx.request().method(), printable(ctx.request().path()), message);
    answer(ctx, status, message);
  }

  private static void answer(RoutingContext ctx, int status, String message) {
    if (ctx.response().ended() || ctx.response().closed()) return;
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }

  /** A path for a log line: at most 200 characters, control characters escaped (no log forging). */
  private static String printable(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length() && out.length() < 200; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) out.append(String.format("\\x%02x", (int) c));
      else out.append(c);
    }
    return out.toString();
  }
}
