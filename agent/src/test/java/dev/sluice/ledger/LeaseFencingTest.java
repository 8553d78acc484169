package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.db.Await;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Leases against a real ledger, three agents in one JVM: claims skip each other, an expired lease
 * is lost even before a takeover, a taken-over lease is never renewed by its old owner's
 * heartbeat, a writer's fence does not block its own heartbeat but does hold off a takeover, and
 * the heartbeat counts the agents sharing a job's rate budget. The first two interleave a second,
 * blocking JDBC session holding a fence with the ledger's calls, so they block; the third is plain
 * ledger calls, tested the Vert.x way.
 */
@ExtendWith(VertxExtension.class)
class LeaseFencingTest {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final TestPg pg = TestPg.get();
  private static Vertx vertx;
  private static Pool pool;
  private static String db;
  private static Ledger a;
  private static Ledger b;
  private static Ledger c;

  @BeforeAll
  static void setUp() {
    db = pg.createDatabase("leases");
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    Await.result(LedgerSchema.ensure(pool));
    pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
            + "VALUES ('j', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')",
        "INSERT INTO sluice.segments (job, seq, rows_planned) SELECT 'j', g, 10 FROM generate_series(0, 3) g");
    a = new Ledger(pool, "agent-a");
    b = new Ledger(pool, "agent-b");
    c = new Ledger(pool, "agent-c");
    for (Ledger l : List.of(a, b, c)) Await.result(l.roster().register("host", 1, "test", LEASE, Duration.ofSeconds(1)));
  }

  @AfterAll
  static void tearDown() {
    Await.result(pool.close());
    Await.result(vertx.close());
  }

  private static <T> T await(Future<T> f) {
    return Await.result(f, 20, TimeUnit.SECONDS);
  }

  private static Roster.Beat beat(Ledger l) {
    return await(l.roster().heartbeat(LEASE, List.of(new Roster.JobFigures("j", 0, 0, null))));
  }

  private static void expire(int seq) {
    expire(seq, "j");
  }

  private static void expire(int seq, String job) {
    pg.exec(db, "UPDATE sluice.segments SET lease_expires_at = now() - interval '1 second' WHERE job = '" + job + "' AND seq = " + seq);
  }

  @Test
  void leasesAreExclusiveFencedAndNeverRevived() throws Exception {
    Segment sa = await(a.claim("j", LEASE, false));
    Segment sb = await(b.claim("j", LEASE, false));
    assertEquals(0, sa.seq());
    assertEquals(1, sb.seq(), "SKIP LOCKED and the state change keep claims apart");
    assertEquals(3, beat(c).jobs().get("j").sharing(), "c shares the budget with a and b, which hold leases");
    assertEquals(List.of(), beat(a).lost());

    // Expired but not yet taken over: lost all the same. No renewal, no write.
    expire(0);
    assertEquals(List.of(new HeldLeases.Lease("j", 0, sa.epoch())), beat(a).lost());
    assertInstanceOf(LeaseLostException.class, assertThrows(RuntimeException.class,
        () -> await(a.markCopied(sa, 10, 10, 42))));
    assertEquals(2, beat(c).jobs().get("j").sharing(), "a holds no live lease any more: only b shares with c");

    // Taken over: epoch advances; the old owner's heartbeat and writes leave the new lease alone.
    Segment taken = await(c.claim("j", LEASE, false));
    assertEquals(0, taken.seq());
    assertEquals(sa.epoch() + 1, taken.epoch());
    a.leases().hold(sa); // as if a's worker still believed it held the segment
    assertEquals(List.of(new HeldLeases.Lease("j", 0, sa.epoch())), beat(a).lost());
    assertEquals("agent-c", pg.string(db, "SELECT owner FROM sluice.segments WHERE job = 'j' AND seq = 0"));
    assertThrows(RuntimeException.class, () -> await(a.markCopied(sa, 10, 10, 42)));
    await(a.leaseLost(sa, "test"));
    await(a.leaseLost(sa, "test"));
    assertEquals(1, pg.scalar(db, "SELECT count(*) FROM sluice.events WHERE kind = 'segment.lease_lost' AND agent = 'agent-a'"),
        "a lost lease is reported once");
    await(c.markCopied(taken, 10, 10, 42));
    assertEquals("copied", pg.string(db, "SELECT state FROM sluice.segments WHERE job = 'j' AND seq = 0"));

    // A writer's fence (FOR KEY SHARE, as SegmentSql takes it) lets its owner's heartbeat renew the
    // lease, and makes a takeover skip the segment until the write commits.
    try (Connection w = pg.connect(db); Statement st = w.createStatement()) {
      w.setAutoCommit(false);
      st.executeQuery("SELECT 1 FROM sluice.segments WHERE job = 'j' AND seq = 1 AND owner = 'agent-b' AND lease_epoch = "
          + sb.epoch() + " AND lease_expires_at > now() FOR KEY SHARE").close();
      pg.exec(db, "UPDATE sluice.segments SET lease_expires_at = now() + interval '2 seconds' WHERE job = 'j' AND seq = 1");
      assertEquals(List.of(), beat(b).lost(), "renewal is not blocked by the owner's in-flight write");
      assertEquals(1, pg.scalar(db, "SELECT count(*) FROM sluice.segments WHERE job = 'j' AND seq = 1 "
          + "AND lease_expires_at > now() + interval '20 seconds'"), "the heartbeat renewed the full lease term");
      expire(1);
      Segment next = await(a.claim("j", LEASE, false));
      assertEquals(2, next.seq(), "the expired segment under an in-flight write is skipped, not taken over");
      w.commit();
    }
    Segment later = await(a.claim("j", LEASE, false));
    assertEquals(1, later.seq());
    assertEquals(sb.epoch() + 1, later.epoch());

    // The agents list shows who holds what, from the segments themselves.
    JsonArray agents = await(Roster.agents(pool));
    JsonObject ra = find(agents, "agent-a");
    assertEquals(2, ra.getInteger("segmentsHeld"));
    assertTrue(ra.getBoolean("alive"));
    assertEquals(0, find(agents, "agent-b").getInteger("segmentsHeld"));
    assertTrue(ra.getLong("ledgerWrites") > 0);

    // One id, two live processes: the second is refused; the same process may register again.
    RuntimeException dup = assertThrows(RuntimeException.class,
        () -> await(b.roster().register("other-host", 2, "test", LEASE, Duration.ofSeconds(1))));
    assertTrue(dup.getMessage().contains("agent id agent-b is in use by a live agent on host pid 1"), dup.getMessage());
    await(b.roster().register("host", 1, "test", LEASE, Duration.ofSeconds(1)));

    // A clean stop hands back what it holds and is no longer alive.
    await(a.roster().releaseAll("test stop"));
    assertEquals(0, pg.scalar(db, "SELECT count(*) FROM sluice.segments WHERE owner = 'agent-a'"));
    JsonObject stopped = find(await(Roster.agents(pool)), "agent-a");
    assertEquals(false, stopped.getBoolean("alive"));
    assertNull(find(await(Roster.agents(pool)), "nobody"));
  }

  /**
   * A worker finishes its segment while the heartbeat is under way: before the heartbeat listed its
   * held leases (the worker has not dropped the lease yet), or while the heartbeat's statement waits
   * for the segment's row. Neither is a lost lease; one taken over still is.
   */
  @Test
  void aSegmentFinishedDuringAHeartbeatIsNotALostLease() throws Exception {
    pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
            + "VALUES ('f', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')",
        "INSERT INTO sluice.segments (job, seq, rows_planned) SELECT 'f', g, 10 FROM generate_series(0, 2) g");
    Ledger g = new Ledger(pool, "agent-g");
    await(g.roster().register("host", 7, "test", LEASE, Duration.ofSeconds(1)));
    List<Roster.JobFigures> figures = List.of(new Roster.JobFigures("f", 0, 0, null));
    Segment first = await(g.claim("f", LEASE, false));
    Segment second = await(g.claim("f", LEASE, false));
    Segment third = await(g.claim("f", LEASE, false));

    await(g.markCopied(first, 10, 10, 42));
    await(g.markVerified(first, 10, 42)); // the worker has not dropped the lease yet
    assertEquals(List.of(), await(g.roster().heartbeat(LEASE, figures)).lost(), "verified by its own worker: not lost");

    try (Connection w = pg.connect(db); Statement st = w.createStatement()) {
      w.setAutoCommit(false);
      st.executeUpdate("UPDATE sluice.segments SET state = 'failed', last_error = 'x', owner = NULL, lease_expires_at = NULL "
          + "WHERE job = 'f' AND seq = " + second.seq()); // as markFailed does, not committed yet
      Future<Roster.Beat> beat = g.roster().heartbeat(LEASE, figures);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (pg.scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND query LIKE 'WITH a AS (UPDATE sluice.agents SET heartbeat_at%'") == 0) {
        assertTrue(System.nanoTime() < end, "the heartbeat never waited for the segment's row");
        Thread.sleep(20);
      }
      w.commit();
      assertEquals(List.of(), await(beat).lost(), "parked by its own worker while the heartbeat waited: not lost");
    }

    expire(third.seq(), "f");
    Ledger h = new Ledger(pool, "agent-h");
    await(h.roster().register("host", 8, "test", LEASE, Duration.ofSeconds(1)));
    Segment taken = await(h.claim("f", LEASE, false));
    assertEquals(third.seq(), taken.seq());
    assertEquals(List.of(new HeldLeases.Lease("f", third.seq(), third.epoch())), await(g.roster().heartbeat(LEASE, figures)).lost(),
        "taken over: lost");
  }

  @Test
  void aRollbackWaitsForAnInFlightWrite() throws Exception {
    pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
            + "VALUES ('r', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')",
        "INSERT INTO sluice.segments (job, seq, rows_planned) SELECT 'r', g, 10 FROM generate_series(0, 1) g");
    Ledger d = new Ledger(pool, "agent-d");
    await(d.roster().register("host", 4, "test", LEASE, Duration.ofSeconds(1)));
    Segment s = await(d.claim("r", LEASE, false));
    try (Connection w = pg.connect(db); Statement st = w.createStatement()) {
      w.setAutoCommit(false);
      st.executeQuery("SELECT 1 FROM sluice.segments WHERE job = 'r' AND seq = " + s.seq() + " AND owner = 'agent-d' "
          + "AND lease_epoch = " + s.epoch() + " AND lease_expires_at > now() FOR KEY SHARE").close();
      Future<Void> rollback = new ConsistencyLedger(pool, "operator").beginRollback("r", "test");
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (pg.scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%rolling_back%'") == 0) {
        assertTrue(System.nanoTime() < end, "the rollback never waited for the in-flight write");
        Thread.sleep(20);
      }
      assertTrue(!rollback.isComplete(), "the rollback waits while the write holds its fence");
      w.commit();
      await(rollback);
    }
    assertEquals(s.epoch() + 1, pg.scalar(db, "SELECT lease_epoch FROM sluice.segments WHERE job = 'r' AND seq = " + s.seq()));
    assertThrows(RuntimeException.class, () -> await(d.markCopied(s, 10, 10, 42)), "the old lease is fenced off");
  }

  @Test
  void theJobsBudgetAndHealthVerdictsReachEveryAgent(VertxTestContext ctx) {
    pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
        + "VALUES ('h', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')");
    Ledger e = new Ledger(pool, "agent-e");
    Ledger f = new Ledger(pool, "agent-f");
    List<Roster.JobFigures> healthy = List.of(new Roster.JobFigures("h", 0, 0, null));
    e.roster().register("host", 5, "test", LEASE, Duration.ofSeconds(1))
        .compose(v -> f.roster().register("host", 6, "test", LEASE, Duration.ofSeconds(1)))
        .compose(v -> f.roster().heartbeat(LEASE, healthy))
        .compose(before -> {
          ctx.verify(() -> {
            assertNull(before.jobs().get("h").budget());
            assertEquals(Roster.FleetHealth.NONE, before.jobs().get("h").others());
          });
          // An operator's budget set through e reaches f; e's unhealthy verdict reaches f with its reason.
          return e.roster().setBudget("h", 6000.0, 6000, "alice", "job h paced at 6000 rows/s by alice", null);
        })
        .compose(v -> e.roster().heartbeat(LEASE, List.of(new Roster.JobFigures("h", 0, 0, null, true, "replication lag 12 s > 5 s", 0.3))))
        .compose(v -> f.roster().heartbeat(LEASE, healthy))
        .compose(beat -> {
          Roster.JobView seen = beat.jobs().get("h");
          ctx.verify(() -> {
            assertEquals(new Roster.Budget(6000.0, 6000, "alice"), seen.budget());
            assertTrue(seen.others().throttled());
            assertEquals("agent agent-e: replication lag 12 s > 5 s", seen.others().reason());
            assertEquals(0.3, seen.others().rateFactor(), 1e-9);
          });
          return e.roster().heartbeat(LEASE, healthy);
        })
        .compose(beat -> {
          ctx.verify(() -> assertEquals(Roster.FleetHealth.NONE, beat.jobs().get("h").others(),
              "f is healthy; an agent's own verdict is not counted among the others'"));
          // A stopped agent's verdict no longer counts; a dropped budget is gone for everyone.
          return e.roster().heartbeat(LEASE, List.of(new Roster.JobFigures("h", 0, 0, null, true, "lag", 0.1)));
        })
        .compose(v -> e.roster().releaseAll("test"))
        .compose(v -> e.roster().clearBudget("h", "config reloaded"))
        .compose(v -> f.roster().heartbeat(LEASE, healthy))
        .compose(beat -> {
          ctx.verify(() -> {
            assertNull(beat.jobs().get("h").budget());
            assertEquals(Roster.FleetHealth.NONE, beat.jobs().get("h").others());
          });
          return pool.query("SELECT count(*) FROM sluice.events WHERE job = 'h' AND kind IN ('operator.pace', 'job.pace')").execute();
        })
        .onComplete(ctx.succeeding(rows -> ctx.verify(() -> {
          assertEquals(2L, rows.iterator().next().getLong(0));
          ctx.completeNow();
        })));
  }

  private static JsonObject find(JsonArray agents, String id) {
    for (int i = 0; i < agents.size(); i++) if (agents.getJsonObject(i).getString("id").equals(id)) return agents.getJsonObject(i);
    return null;
  }
}
