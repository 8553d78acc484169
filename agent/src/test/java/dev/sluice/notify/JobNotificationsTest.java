package dev.sluice.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.db.Await;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.Reports;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
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

/** Two agents see the same milestones; the ledger lets one of them post each, once. */
class JobNotificationsTest {
  private final TestPg pg = TestPg.get();

  @Test
  void eachMilestoneIsPostedOnceAcrossAgents() throws Exception {
    String db = pg.createDatabase("notif");
    Vertx vertx = Vertx.vertx();
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    ConcurrentLinkedQueue<JsonObject> got = new ConcurrentLinkedQueue<>();
    HttpServer server = Await.result(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      got.add(b.toJsonObject());
      req.response().end();
    })).listen(0, "127.0.0.1"));
    try {
      Await.result(LedgerSchema.ensure(pool));
      WebhookNotifier.Target hook = new WebhookNotifier.Target("http://127.0.0.1:" + server.actualPort() + "/hook", Set.of(), null, null);
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
      Eventually.until(Duration.ofSeconds(10), "four posts", () -> got.size() >= 4);
      Eventually.pause(500); // nothing more arrives
      // Two outboxes post in parallel: the order across agents is not defined, the set is.
      assertEquals(List.of("completed", "progress", "progress", "started"), got.stream().map(j -> j.getString("event")).sorted().toList());
      assertEquals(List.of(25, 50), got.stream().filter(j -> j.getString("event").equals("progress"))
          .map(j -> j.getJsonObject("details").getInteger("percent")).sorted().toList());
      assertEquals(4, pg.scalar(db, "SELECT count(*) FROM sluice.notifications WHERE job = 'orders'"));
    } finally {
      pool.close();
      Await.result(vertx.close(), 10, TimeUnit.SECONDS);
    }
  }
}
