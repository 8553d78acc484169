package dev.sluice.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.Async;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The notifier against a real local HTTP receiver. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 40, timeUnit = TimeUnit.SECONDS)
class WebhookNotifierTest {
  static final String TOKEN = "s3cret-token-0123456789";
  Vertx vertx;
  HttpServer server;
  final ConcurrentLinkedQueue<String[]> received = new ConcurrentLinkedQueue<>(); // {path, auth, body}
  final AtomicInteger failFirst = new AtomicInteger();
  volatile boolean hang;
  final AtomicInteger hanging = new AtomicInteger();

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    this.vertx = vertx;
    vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      if (hang) {
        hanging.incrementAndGet(); // never answers
        return;
      }
      if (failFirst.getAndDecrement() > 0) {
        req.response().setStatusCode(503).end();
        return;
      }
      received.add(new String[] {req.path(), req.getHeader("Authorization"), b.toString()});
      req.response().setStatusCode(200).end("ok");
    })).listen(0, "127.0.0.1").onComplete(ctx.succeeding(s -> {
      server = s;
      ctx.completeNow();
    }));
  }

  /** Polls {@code condition} (plain state of this test and the notifier) on a timer. */
  Future<Void> until(Duration limit, String what, BooleanSupplier condition) {
    return Async.until(vertx, limit, what, () -> Future.succeededFuture(condition.getAsBoolean()));
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  static NotifyEvent event(String kind, String msg) {
    return new NotifyEvent(kind, kind, "orders", Instant.parse("2024-01-01T10:00:00Z"), msg, new JsonObject().put("percent", 50));
  }

  @Test
  void postsJsonWithASlackTextAndTheTokenOnlyInTheHeader(VertxTestContext ctx) {
    WebhookNotifier n = new WebhookNotifier(vertx, List.of(new WebhookNotifier.Target(url("/T000/B000/secret"), Set.of(), "HOOK_TOKEN", null)),
        "agent-1", Map.of("HOOK_TOKEN", TOKEN)::get, System::nanoTime).start();
    n.publish(event(NotifyEvent.PROGRESS, "job orders is 50% copied"));
    until(Duration.ofSeconds(10), "a post", () -> received.size() == 1).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      String[] r = received.peek();
      assertEquals("/T000/B000/secret", r[0]);
      assertEquals("Bearer " + TOKEN, r[1]);
      JsonObject body = new JsonObject(r[2]);
      assertEquals("progress", body.getString("event"));
      assertEquals("Sluice: job orders is 50% copied", body.getString("text"));
      assertEquals(50, body.getJsonObject("details").getInteger("percent"));
      assertFalse(r[2].contains(TOKEN));
      assertEquals("http://127.0.0.1:" + server.actualPort() + "/...", n.status().getJsonObject(0).getString("url"), "the path is not shown");
      ctx.completeNow();
    })));
  }

  @Test
  void retriesA503AndReadsTheTokenFromAFileAndFiltersEvents(@TempDir Path dir, VertxTestContext ctx) throws Exception {
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n");
    failFirst.set(2);
    WebhookNotifier n = new WebhookNotifier(vertx, List.of(new WebhookNotifier.Target(url("/hook"), Set.of("completed"), null,
        tokenFile.toString())), "agent-1", k -> null, System::nanoTime).start();
    n.publish(event(NotifyEvent.PROGRESS, "not wanted"));
    n.publish(event(NotifyEvent.COMPLETED, "job orders completed"));
    // The receiver has the post before the notifier has its answer: wait for both (the notifier's client
    // may share this test's event loop, so it cannot count the answer while the condition is read).
    until(Duration.ofSeconds(20), "the post after two 503s, and its answer", () -> received.size() == 1
        && n.status().getJsonObject(0).getLong("sent") >= 1).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals("Bearer " + TOKEN, received.peek()[1]);
      assertEquals("completed", new JsonObject(received.peek()[2]).getString("event"));
      assertEquals(1L, n.status().getJsonObject(0).getLong("sent"));
      assertNull(n.status().getJsonObject(0).getString("lastError"));
      ctx.completeNow();
    })));
  }

  @Test
  void aReceiverThatNeverAnswersCostsThePublisherNothing(VertxTestContext ctx) {
    hang = true;
    WebhookNotifier n = new WebhookNotifier(vertx, List.of(new WebhookNotifier.Target(url("/slow"), Set.of(), null, null)), "a",
        k -> null, System::nanoTime).start();
    n.publish(event(NotifyEvent.PROGRESS, "first"));
    until(Duration.ofSeconds(10), "the first post in flight, unanswered", () -> n.status().getJsonObject(0).getInteger("waiting") == 1
        && hanging.get() == 1).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          for (int i = 0; i < 5000; i++) n.publish(event(NotifyEvent.PROGRESS, "p" + i)); // returns while the receiver hangs
          assertEquals(1, hanging.get(), "still unanswered: publishing did not wait for it");
          JsonObject st = n.status().getJsonObject(0);
          assertEquals(WebhookNotifier.CAPACITY + 1, st.getInteger("waiting"), "bounded (plus the one in flight): " + st);
          assertEquals(5000 - WebhookNotifier.CAPACITY, st.getLong("dropped"), st.encode());
          ctx.completeNow();
        })));
  }

  @Test
  void aMissingTokenIsNotSentAndNotRetried(VertxTestContext ctx) {
    WebhookNotifier n = new WebhookNotifier(vertx, List.of(new WebhookNotifier.Target(url("/hook"), Set.of(), "UNSET_VAR", null)), "a",
        k -> null, System::nanoTime).start();
    n.publish(event(NotifyEvent.STARTED, "started"));
    until(Duration.ofSeconds(10), "given up", () -> n.status().getJsonObject(0).getLong("givenUp") == 1)
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertTrue(received.isEmpty());
          assertTrue(n.status().getJsonObject(0).getString("lastError").contains("UNSET_VAR is not set"));
          ctx.completeNow();
        })));
  }
}
