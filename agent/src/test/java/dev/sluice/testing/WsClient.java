package dev.sluice.testing;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A blocking WebSocket client for tests: every text message lands in a queue, with its arrival time. */
public final class WsClient implements AutoCloseable {
  public record Message(long nanos, JsonObject json) {}

  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
  private final WebSocket ws;

  private WsClient(String url, String origin) {
    WebSocket.Builder b = CLIENT.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    if (origin != null) b.header("Origin", origin);
    this.ws = b.buildAsync(URI.create(url), new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          messages.add(new Message(System.nanoTime(), new JsonObject(partial.toString())));
          partial.setLength(0);
        }
        w.request(1);
        return null;
      }
    }).join();
  }

  public static WsClient connect(String url) {
    return new WsClient(url, null);
  }

  public static WsClient connect(String url, String origin) {
    return new WsClient(url, origin);
  }

  public void send(JsonObject msg) {
    ws.sendText(msg.encode(), true).join();
  }

  public void sendRaw(String text) {
    ws.sendText(text, true).join();
  }

  /** The next message matching {@code p} within {@code seconds}; fails the test otherwise. */
  public Message await(Predicate<JsonObject> p, double seconds, String what) {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        Message m = left <= 0 ? null : messages.poll(left, TimeUnit.NANOSECONDS);
        if (m == null) throw new AssertionError("no " + what + " within " + seconds + " s");
        if (p.test(m.json())) return m;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    ws.abort();
  }
}
