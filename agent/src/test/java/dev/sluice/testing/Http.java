package dev.sluice.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A small blocking HTTP client for tests. It speaks HTTP/1.1: the JDK client's default (HTTP/2, by an
 * h2c upgrade on plain http) once never finished reading a response body from an agent in the suite,
 * and its request timeout ends when the headers arrive, so the whole test JVM hung. Every call also has
 * a deadline of its own that covers the body.
 */
public final class Http {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private Http() {}

  public record Response(int status, String body) {}

  public static Response get(String url) {
    return send(HttpRequest.newBuilder(URI.create(url)).GET());
  }

  /** GET with {@code Authorization: Bearer token}. */
  public static Response get(String url, String token) {
    return send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).GET());
  }

  /** POSTs {@code body} (JSON); {@code token} null sends no Authorization header. */
  public static Response post(String url, String token, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    return send(b);
  }

  private static Response send(HttpRequest.Builder b) {
    HttpRequest request = b.timeout(Duration.ofSeconds(20)).build();
    CompletableFuture<HttpResponse<String>> call = CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    try {
      HttpResponse<String> r = call.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      return new Response(r.statusCode(), r.body());
    } catch (ExecutionException e) {
      throw new IllegalStateException(request.method() + " " + request.uri() + " failed", e.getCause());
    } catch (TimeoutException e) {
      call.cancel(true);
      throw new IllegalStateException(request.method() + " " + request.uri() + ": no whole answer in " + DEADLINE.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
