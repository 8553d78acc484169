package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Leases against a real ledger, three agents in one JVM: claims skip each other, an expired lease
 * is lost even before a takeover, a taken-over lease is never renewed by its old owner's
 * heartbeat, a writer's fence does not block its own heartbeat but does hold off a takeover and a
 * rollback, and the heartbeat counts the agents sharing a job's rate budget. A writer's fence is a
 * second, blocking JDBC session held open across steps that each run on a worker ({@code Async.holding}),
 * interleaved with the ledger's futures.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class LeaseFencingTest {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final TestPg pg = TestPg.get();
  private static Pool pool;
  private static String db;
  private static Ledger a;
  private static Ledger b;
  private static Ledger c;

  @BeforeAll
  static void setUp(Vertx vertx, VertxTestContext ctx) {
    db = pg.createDatabase("leases");
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(new PgConnectOptions()
        .setHost(pg.host()).setPort(pg.port()).setDatabase(db).setUser("postgres")).using(vertx).build();
    a = new Ledger(pool, "agent-a");
    b = new Ledger(pool, "agent-b");
    c = new Ledger(pool, "agent-c");
    Future<Void> chain = LedgerSchema.ensure(pool).compose(v -> Async.exec(pool,
        "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
            + "VALUES ('j', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')",
        "INSERT INTO sluice.segments (job, seq, rows_planned) SELECT 'j', g, 10 FROM generate_series(0, 3) g"));
    for (Ledger l : List.of(a, b, c)) chain = chain.compose(v -> l.roster().register("host", 1, "test", LEASE, Duration.ofSeconds(1)));
    chain.onComplete(ctx.succeedingThenComplete());
  }

  @AfterAll
  static void tearDown(VertxTestContext ctx) {
    pool.close().onComplete(ctx.succeedingThenComplete());
  }

  private static Future<Roster.Beat> beat(Ledger l) {
    return l.roster().heartbeat(LEASE, List.of(new Roster.JobFigures("j", 0, 0, null)));
  }

  private static Future<Void> expire(int seq, String job) {
    return Async.exec(pool, "UPDATE sluice.segments SET lease_expires_at = now() - interval '1 second' WHERE job = '" + job + "' AND seq = " + seq);
  }

  /** {@code n} segments of {@code job} claimed one after the other by {@code l}. */
  private static Future<List<Segment>> claims(Ledger l, String job, int n) {
    Future<List<Segment>> chain = Future.succeededFuture(new ArrayList<>());
    for (int i = 0; i < n; i++) chain = chain.compose(held -> l.claim(job, LEASE, false).map(s -> {
      held.add(s);
      return held;
    }));
    return chain;
  }

  /** The fence a writer takes on its segment (FOR KEY SHARE, as SegmentSql takes it). */
  private static String fence(String job, Segment s, String owner) {
    return "SELECT 1 FROM sluice.segments WHERE job = '" + job + "' AND seq = " + s.seq() + " AND owner = '" + owner + "' "
        + "AND lease_epoch = " + s.epoch() + " AND lease_expires_at > now() FOR KEY SHARE";
  }

  /** Whether a statement matching {@code like} waits for a lock, read through the pool. */
  private static Future<Boolean> waitsForALock(String like) {
    return Async.scalar(pool, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '" + like + "'")
        .map(n -> n > 0);
  }

  @Test
  void leasesAreExclusiveFencedAndNeverRevived(Vertx vertx, VertxTestContext ctx) {
    a.claim("j", LEASE, false).compose(sa -> b.claim("j", LEASE, false).compose(sb -> {
          ctx.verify(() -> {
            assertEquals(0, sa.seq());
            assertEquals(1, sb.seq(), "SKIP LOCKED and the state change keep claims apart");
          });
          return beat(c)
              .compose(beat -> {
                ctx.verify(() -> assertEquals(3, beat.jobs().get("j").sharing(), "c shares the budget with a and b, which hold leases"));
                return beat(a);
              })
              .compose(beat -> {
                ctx.verify(() -> assertEquals(List.of(), beat.lost()));
                return expiredThenTakenOver(ctx, sa);
              })
              .compose(v -> aWritersFence(vertx, ctx, sb));
        }))
        .compose(v -> theRosterShowsWhoHoldsWhat(ctx))
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Expired but not yet taken over: lost all the same, no renewal, no write. Taken over: the epoch
   * advances; the old owner's heartbeat and writes leave the new lease alone.
   */
  private static Future<Void> expiredThenTakenOver(VertxTestContext ctx, Segment sa) {
    List<HeldLeases.Lease> lostA = List.of(new HeldLeases.Lease("j", 0, sa.epoch()));
    return expire(0, "j")
        .compose(v -> beat(a))
        .compose(beat -> {
          ctx.verify(() -> assertEquals(lostA, beat.lost()));
          return Async.failure(a.markCopied(sa, 10, 10, 42), "a write on an expired lease");
        })
        .compose(e -> {
          ctx.verify(() -> assertInstanceOf(LeaseLostException.class, e));
          return beat(c);
        })
        .compose(beat -> {
          ctx.verify(() -> assertEquals(2, beat.jobs().get("j").sharing(), "a holds no live lease any more: only b shares with c"));
          return c.claim("j", LEASE, false);
        })
        .compose(taken -> {
          ctx.verify(() -> {
            assertEquals(0, taken.seq());
            assertEquals(sa.epoch() + 1, taken.epoch());
          });
          a.leases().hold(sa); // as if a's worker still believed it held the segment
          return beat(a)
              .compose(beat -> {
                ctx.verify(() -> assertEquals(lostA, beat.lost()));
                return Async.text(pool, "SELECT owner FROM sluice.segments WHERE job = 'j' AND seq = 0");
              })
              .compose(owner -> {
                ctx.verify(() -> assertEquals("agent-c", owner));
                return Async.failure(a.markCopied(sa, 10, 10, 42), "the old owner's write after a takeover");
              })
              .compose(e -> {
                ctx.verify(() -> assertInstanceOf(RuntimeException.class, e));
                return a.leaseLost(sa, "test");
              })
              .compose(v -> a.leaseLost(sa, "test"))
              .compose(v -> Async.scalar(pool, "SELECT count(*) FROM sluice.events WHERE kind = 'segment.lease_lost' AND agent = 'agent-a'"))
              .compose(n -> {
                ctx.verify(() -> assertEquals(1, n, "a lost lease is reported once"));
                return c.markCopied(taken, 10, 10, 42);
              });
        })
        .compose(v -> Async.text(pool, "SELECT state FROM sluice.segments WHERE job = 'j' AND seq = 0"))
        .map(state -> {
          ctx.verify(() -> assertEquals("copied", state));
          return null;
        });
  }

  /** A writer's fence lets its owner's heartbeat renew the lease, and makes a takeover skip the segment until the write commits. */
  private static Future<Void> aWritersFence(Vertx vertx, VertxTestContext ctx, Segment sb) {
    return Async.holding(vertx, () -> pg.connect(db), fence("j", sb, "agent-b"), w ->
            Async.exec(pool, "UPDATE sluice.segments SET lease_expires_at = now() + interval '2 seconds' WHERE job = 'j' AND seq = 1")
                .compose(v -> beat(b))
                .compose(beat -> {
                  ctx.verify(() -> assertEquals(List.of(), beat.lost(), "renewal is not blocked by the owner's in-flight write"));
                  return Async.scalar(pool, "SELECT count(*) FROM sluice.segments WHERE job = 'j' AND seq = 1 "
                      + "AND lease_expires_at > now() + interval '20 seconds'");
                })
                .compose(n -> {
                  ctx.verify(() -> assertEquals(1, n, "the heartbeat renewed the full lease term"));
                  return expire(1, "j");
                })
                .compose(v -> a.claim("j", LEASE, false))
                .compose(next -> {
                  ctx.verify(() -> assertEquals(2, next.seq(), "the expired segment under an in-flight write is skipped, not taken over"));
                  return Async.commit(vertx, w);
                }))
        .compose(v -> a.claim("j", LEASE, false))
        .map(later -> {
          ctx.verify(() -> {
            assertEquals(1, later.seq());
            assertEquals(sb.epoch() + 1, later.epoch());
          });
          return null;
        });
  }

  /**
   * The agents list shows who holds what, from the segments themselves. One id, two live
   * processes: the second is refused; the same process may register again. A clean stop hands back
   * what it holds and is no longer alive.
   */
  private static Future<Void> theRosterShowsWhoHoldsWhat(VertxTestContext ctx) {
    return Roster.agents(pool)
        .compose(agents -> {
          ctx.verify(() -> {
            JsonObject ra = find(agents, "agent-a");
            assertEquals(2, ra.getInteger("segmentsHeld"));
            assertTrue(ra.getBoolean("alive"));
            assertEquals(0, find(agents, "agent-b").getInteger("segmentsHeld"));
            assertTrue(ra.getLong("ledgerWrites") > 0);
          });
          return Async.failure(b.roster().register("other-host", 2, "test", LEASE, Duration.ofSeconds(1)), "a second live process's registration");
        })
        .compose(dup -> {
          ctx.verify(() -> {
            assertInstanceOf(RuntimeException.class, dup);
            assertTrue(dup.getMessage().contains("agent id agent-b is in use by a live agent on host pid 1"), dup.getMessage());
          });
          return b.roster().register("host", 1, "test", LEASE, Duration.ofSeconds(1));
        })
        .compose(v -> a.roster().releaseAll("test stop"))
        .compose(v -> Async.scalar(pool, "SELECT count(*) FROM sluice.segments WHERE owner = 'agent-a'"))
        .compose(n -> {
          ctx.verify(() -> assertEquals(0, n));
          return Roster.agents(pool);
        })
        .map(agents -> {
          ctx.verify(() -> {
            assertEquals(false, find(agents, "agent-a").getBoolean("alive"));
            assertNull(find(agents, "nobody"));
          });
          return null;
        });
  }

  /**
   * A worker finishes its segment while the heartbeat is under way: before the heartbeat listed its
   * held leases (the worker has not dropped the lease yet), or while the heartbeat's statement waits
   * for the segment's row. Neither is a lost lease; one taken over still is.
   */
  @Test
  void aSegmentFinishedDuringAHeartbeatIsNotALostLease(Vertx vertx, VertxTestContext ctx) {
    pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
            + "VALUES ('f', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')",
        "INSERT INTO sluice.segments (job, seq, rows_planned) SELECT 'f', g, 10 FROM generate_series(0, 2) g");
    Ledger g = new Ledger(pool, "agent-g");
    Ledger h = new Ledger(pool, "agent-h");
    List<Roster.JobFigures> figures = List.of(new Roster.JobFigures("f", 0, 0, null));
    g.roster().register("host", 7, "test", LEASE, Duration.ofSeconds(1))
        .compose(v -> claims(g, "f", 3))
        .compose(held -> {
          Segment first = held.get(0);
          Segment second = held.get(1);
          Segment third = held.get(2);
          return g.markCopied(first, 10, 10, 42)
              .compose(v -> g.markVerified(first, 10, 42)) // the worker has not dropped the lease yet
              .compose(v -> g.roster().heartbeat(LEASE, figures))
              .compose(beat -> {
                ctx.verify(() -> assertEquals(List.of(), beat.lost(), "verified by its own worker: not lost"));
                // As markFailed does, not committed yet.
                String parked = "UPDATE sluice.segments SET state = 'failed', last_error = 'x', owner = NULL, lease_expires_at = NULL "
                    + "WHERE job = 'f' AND seq = " + second.seq();
                return Async.holding(vertx, () -> pg.connect(db), parked, w -> {
                      Future<Roster.Beat> waiting = g.roster().heartbeat(LEASE, figures);
                      return Async.until(vertx, Duration.ofSeconds(20), "the heartbeat to wait for the segment's row",
                              () -> waitsForALock("WITH a AS (UPDATE sluice.agents SET heartbeat_at%"))
                          .compose(v -> Async.commit(vertx, w))
                          .compose(v -> waiting);
                    });
              })
              .compose(beat -> {
                ctx.verify(() -> assertEquals(List.of(), beat.lost(), "parked by its own worker while the heartbeat waited: not lost"));
                return expire(third.seq(), "f");
              })
              .compose(v -> h.roster().register("host", 8, "test", LEASE, Duration.ofSeconds(1)))
              .compose(v -> h.claim("f", LEASE, false))
              .compose(taken -> {
                ctx.verify(() -> assertEquals(third.seq(), taken.seq()));
                return g.roster().heartbeat(LEASE, figures);
              })
              .map(beat -> {
                ctx.verify(() -> assertEquals(List.of(new HeldLeases.Lease("f", third.seq(), third.epoch())), beat.lost(), "taken over: lost"));
                return null;
              });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aRollbackWaitsForAnInFlightWrite(Vertx vertx, VertxTestContext ctx) {
    pg.exec(db, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) "
            + "VALUES ('r', 'copying', 'public.t', 'public.t', '{id}', '{bigint}')",
        "INSERT INTO sluice.segments (job, seq, rows_planned) SELECT 'r', g, 10 FROM generate_series(0, 1) g");
    Ledger d = new Ledger(pool, "agent-d");
    d.roster().register("host", 4, "test", LEASE, Duration.ofSeconds(1))
        .compose(v -> d.claim("r", LEASE, false))
        .compose(s -> Async.holding(vertx, () -> pg.connect(db), fence("r", s, "agent-d"), w -> {
              Future<Void> rollback = new ConsistencyLedger(pool, "operator").beginRollback("r", "test");
              return Async.until(vertx, Duration.ofSeconds(20), "the rollback to wait for the in-flight write",
                      () -> waitsForALock("%rolling_back%"))
                  .compose(v -> {
                    ctx.verify(() -> assertTrue(!rollback.isComplete(), "the rollback waits while the write holds its fence"));
                    return Async.commit(vertx, w);
                  })
                  .compose(v -> rollback);
            })
            .compose(v -> Async.scalar(pool, "SELECT lease_epoch FROM sluice.segments WHERE job = 'r' AND seq = " + s.seq()))
            .compose(epoch -> {
              ctx.verify(() -> assertEquals(s.epoch() + 1, epoch));
              return Async.failure(d.markCopied(s, 10, 10, 42), "a write on the old lease");
            })
            .map(e -> {
              ctx.verify(() -> assertInstanceOf(RuntimeException.class, e, "the old lease is fenced off"));
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
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
