package dev.sluice.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.Reports;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two agents see the same milestones; the ledger lets one of them post each, once. The hook's strict
 * checkpoint fails the test on a fifth post.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class JobNotificationsTest {
  private final TestPg pg = TestPg.get();

  @Test
  void eachMilestoneIsPostedOnceAcrossAgents(Vertx vertx, VertxTestContext ctx) {
    String db = pg.createDatabase("notif");
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    ConcurrentLinkedQueue<JsonObject> got = new ConcurrentLinkedQueue<>();
    Checkpoint posted = ctx.checkpoint(4);
    Checkpoint checked = ctx.checkpoint();
    Future.all(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
          got.add(b.toJsonObject());
          req.response().end();
          posted.flag();
        })).listen(0, "127.0.0.1"), LedgerSchema.ensure(pool))
        .compose(all -> {
          int port = all.<io.vertx.core.http.HttpServer>resultAt(0).actualPort();
          WebhookNotifier.Target hook = new WebhookNotifier.Target("http://127.0.0.1:" + port + "/hook", Set.of(), null, null);
          JobNotifications a = new JobNotifications(new WebhookNotifier(vertx, List.of(hook), "a", k -> null, System::nanoTime).start(),
              (job, key, kind) -> Reports.claimMilestone(pool, "a", job, key, kind), Clock.systemUTC(), Duration.ofMinutes(5));
          JobNotifications b = new JobNotifications(new WebhookNotifier(vertx, List.of(hook), "b", k -> null, System::nanoTime).start(),
              (job, key, kind) -> Reports.claimMilestone(pool, "b", job, key, kind), Clock.systemUTC(), Duration.ofMinutes(5));
          for (long done : new long[] {0, 300, 600}) {
            Milestones.JobView v = new Milestones.JobView("orders", "copying", done, 1000, null, null);
            a.tick(v);
            b.tick(v);
          }
          Milestones.AuditEvent completed = new Milestones.AuditEvent(99, "job.completed", null, "job orders completed", null);
          a.event("orders", completed);
          b.event("orders", completed);
          return Async.until(vertx, Duration.ofSeconds(10), "four posts", () -> Future.succeededFuture(got.size() >= 4));
        })
        .compose(v -> Async.pause(vertx, 500)) // nothing more arrives
        .compose(v -> Async.scalar(pool, "SELECT count(*) FROM sluice.notifications WHERE job = 'orders'"))
        .eventually(pool::close)
        .onComplete(ctx.succeeding(rows -> ctx.verify(() -> {
          // Two outboxes post in parallel: the order across agents is not defined, the set is.
          assertEquals(List.of("completed", "progress", "progress", "started"), got.stream().map(j -> j.getString("event")).sorted().toList());
          assertEquals(List.of(25, 50), got.stream().filter(j -> j.getString("event").equals("progress"))
              .map(j -> j.getJsonObject("details").getInteger("percent")).sorted().toList());
          assertEquals(4L, rows);
          checked.flag();
        })));
  }
}
