package dev.sluice.notify;

import dev.sluice.config.Secrets;
import dev.sluice.resilience.Backoff;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts milestones to webhooks. {@link #publish} only queues (in memory, bounded, see
 * {@link Deliveries}): it never waits on a receiver, so a slow or dead receiver cannot slow the
 * migration. A timer sends each webhook's posts in order, one at a time, each with a
 * {@value #REQUEST_TIMEOUT_MS} ms timeout; 2xx is delivered, 408, 429, 5xx and network errors are
 * retried with full-jitter backoff ({@value #BASE_DELAY_MS} ms doubling to {@value #MAX_DELAY_MS} ms,
 * {@value #MAX_ATTEMPTS} attempts), other answers are dropped with a warning.
 *
 * <p>The bearer token is read at each post from the environment variable or the file named (so a
 * rotated file is picked up) and sent only in the {@code Authorization} header. Logs and the status
 * show a webhook as its scheme, host and port only: a Slack webhook's path is itself a secret.
 */
public final class WebhookNotifier {
  private static final Logger log = LoggerFactory.getLogger(WebhookNotifier.class);
  static final long TICK_MS = 100;
  static final int CAPACITY = 1000;
  static final int MAX_ATTEMPTS = 10;
  static final long BASE_DELAY_MS = 500;
  static final long MAX_DELAY_MS = 300_000;
  static final long REQUEST_TIMEOUT_MS = 10_000;
  private static final long FULL_LOG_NANOS = 60_000_000_000L;

  /** A receiver: its URL, the event kinds it wants (empty: all), and where its bearer token comes from (both null: none). */
  public record Target(String url, Set<String> events, String tokenEnv, String tokenFile) {
    public boolean wants(String kind) {
      return events.isEmpty() || events.contains(kind);
    }
  }

  private final Vertx vertx;
  private final String agent;
  private final Function<String, String> env;
  private final LongSupplier nanos;
  private final List<Outbox> outboxes = new ArrayList<>();
  private final HttpClient client;
  private long timer = -1;

  private final class Outbox {
    final Target target;
    final String shown;
    final Deliveries deliveries;
    volatile String lastError;
    long fullLogged = Long.MIN_VALUE / 2;

    Outbox(Target target, Backoff backoff) {
      this.target = target;
      this.shown = redact(target.url());
      this.deliveries = new Deliveries(CAPACITY, MAX_ATTEMPTS, backoff);
    }
  }

  public WebhookNotifier(Vertx vertx, List<Target> targets, String agent, Function<String, String> env, LongSupplier nanos) {
    this.vertx = vertx;
    this.agent = agent;
    this.env = env;
    this.nanos = nanos;
    Backoff backoff = new Backoff(Duration.ofMillis(BASE_DELAY_MS), Duration.ofMillis(MAX_DELAY_MS), () -> ThreadLocalRandom.current().nextDouble());
    for (Target t : targets) outboxes.add(new Outbox(t, backoff));
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) REQUEST_TIMEOUT_MS).setKeepAlive(true));
  }

  public WebhookNotifier start() {
    if (!outboxes.isEmpty()) timer = vertx.setPeriodic(TICK_MS, t -> pump());
    return this;
  }

  /** Queues the event for every webhook that wants it. Never blocks. */
  public void publish(NotifyEvent e) {
    String body = WebhookPayload.of(e, agent).encode();
    for (Outbox o : outboxes) {
      if (!o.target.wants(e.kind())) continue;
      long now = nanos.getAsLong();
      if (!o.deliveries.offer(e.kind(), body, now) && now - o.fullLogged > FULL_LOG_NANOS) {
        o.fullLogged = now;
        log.warn("webhook {}: outbox full ({} posts): the oldest waiting posts are dropped ({} so far)", o.shown, CAPACITY,
            o.deliveries.dropped());
      }
    }
    vertx.runOnContext(v -> pump());
  }

  private void pump() {
    long now = nanos.getAsLong();
    for (Outbox o : outboxes) {
      Deliveries.Delivery d = o.deliveries.next(now);
      if (d != null) send(o, d);
    }
  }

  private void send(Outbox o, Deliveries.Delivery d) {
    token(o.target).compose(token -> {
      RequestOptions ro = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(o.target.url()).setTimeout(REQUEST_TIMEOUT_MS)
          .putHeader("Content-Type", "application/json").putHeader("User-Agent", "sluice");
      if (token != null) ro.putHeader("Authorization", "Bearer " + token);
      return client.request(ro).compose(req -> req.send(d.body())).compose(resp -> resp.body().map(b -> resp.statusCode()));
    }).onComplete(ar -> {
      long now = nanos.getAsLong();
      if (ar.succeeded() && ar.result() / 100 == 2) {
        o.deliveries.succeeded(d);
        o.lastError = null;
        return;
      }
      int status = ar.succeeded() ? ar.result() : 0;
      boolean retryable = ar.failed() ? !(ar.cause() instanceof MissingToken) : status == 408 || status == 429 || status >= 500;
      String why = ar.failed() ? describe(ar.cause()).replace(o.target.url(), o.shown) : "HTTP " + status;
      o.lastError = why;
      long delay = o.deliveries.failed(d, now, retryable);
      if (delay >= 0) {
        log.info("webhook {}: {} event: {}; retry {} in {} ms", o.shown, d.kind(), why, d.attempts() + 1, delay);
      } else {
        log.warn("webhook {}: {} event dropped after {} attempt(s): {}", o.shown, d.kind(), d.attempts(), why);
      }
      vertx.runOnContext(v -> pump());
    });
  }

  private static final class MissingToken extends RuntimeException {
    MissingToken(String m) {
      super(m, null, false, false);
    }
  }

  private Future<String> token(Target t) {
    if (t.tokenEnv() != null) {
      String v = env.apply(t.tokenEnv());
      return v == null || v.isBlank() ? Future.failedFuture(new MissingToken("environment variable " + t.tokenEnv() + " is not set"))
          : Future.succeededFuture(v.trim());
    }
    if (t.tokenFile() != null) {
      return vertx.fileSystem().readFile(t.tokenFile()).map(b -> b.toString().trim())
          .recover(e -> Future.failedFuture(new MissingToken("cannot read the token file " + t.tokenFile())));
    }
    return Future.succeededFuture(null);
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** {@code https://hooks.slack.com/...}: scheme, host and port only. */
  public static String redact(String url) {
    return Secrets.httpUrl(url);
  }

  /** Each webhook's counts, for the API (URLs redacted). */
  public JsonArray status() {
    JsonArray out = new JsonArray();
    for (Outbox o : outboxes) {
      out.add(new JsonObject().put("url", o.shown).put("sent", o.deliveries.sent()).put("waiting", o.deliveries.waiting())
          .put("dropped", o.deliveries.dropped()).put("givenUp", o.deliveries.givenUp()).put("lastError", o.lastError));
    }
    return out;
  }

  public Future<Void> stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
    return client.close();
  }

  /**
   * Stops once every post waiting is delivered (or given up), or after {@code graceMs}: an agent
   * stopping right after a job completes still says so, and a dead receiver cannot hold its exit.
   */
  public Future<Void> stop(long graceMs) {
    long until = nanos.getAsLong() + graceMs * 1_000_000L;
    io.vertx.core.Promise<Void> drained = io.vertx.core.Promise.promise();
    awaitDrained(until, drained);
    return drained.future().compose(v -> stop());
  }

  private void awaitDrained(long until, io.vertx.core.Promise<Void> drained) {
    boolean empty = outboxes.stream().allMatch(o -> o.deliveries.waiting() == 0);
    if (empty || nanos.getAsLong() >= until) {
      if (!empty) log.warn("webhooks: stopping with posts still waiting: {}", status().encode());
      drained.complete();
      return;
    }
    vertx.setTimer(50, t -> awaitDrained(until, drained));
  }
}
