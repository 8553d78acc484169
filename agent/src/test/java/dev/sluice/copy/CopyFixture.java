package dev.sluice.copy;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobInspector;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.Segment;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.pace.Pacer;
import dev.sluice.plan.KeyRange;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * One job's COPY engine against two real databases, with a ledger in the target whose segments a
 * test claims by hand: the engine alone, without the job around it. Every step is a future, for
 * tests written the Vert.x way; TestPg's blocking JDBC runs on a worker ({@link Async#blocking}).
 */
final class CopyFixture {
  static final String AGENT = "agent-1";
  static final Duration LEASE = Duration.ofSeconds(30);

  final TestPg pg = TestPg.get();
  final Vertx vertx;
  final String src;
  final String tgt;
  final SluiceConfig config;
  final Pool sourcePool;
  final Pool targetPool;
  final Ledger ledger;
  JobShape shape;
  CopyEngine engine;
  private int segments;

  private CopyFixture(Vertx vertx, String src, String tgt, String job) {
    this.vertx = vertx;
    this.src = src;
    this.tgt = tgt;
    config = ConfigLoader.parse(LedgerChecks.config(pg, src, tgt, job));
    sourcePool = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
    targetPool = Databases.pool(vertx, config.target(), "sluice-test-target", 2);
    ledger = new Ledger(targetPool, AGENT);
  }

  /**
   * Runs {@code test} on a fixture for {@code job} (one job object; its tables must exist) and
   * closes the fixture after it, whether it passed or not.
   */
  static <T> Future<T> with(Vertx vertx, String src, String tgt, String job, int bufferBytes, Function<CopyFixture, Future<T>> test) {
    CopyFixture f = new CopyFixture(vertx, src, tgt, job);
    return f.open(bufferBytes, Duration.ofSeconds(60), db -> db).compose(v -> test.apply(f)).eventually(f::close);
  }

  /**
   * The same with the COPY sessions' stall timeout {@code stall}, the engine reaching each database
   * where {@code route} says (a proxy's port); the fixture's own pools and ledger connect directly.
   */
  static <T> Future<T> with(Vertx vertx, String src, String tgt, String job, int bufferBytes, Duration stall,
      UnaryOperator<DatabaseConfig> route, Function<CopyFixture, Future<T>> test) {
    CopyFixture f = new CopyFixture(vertx, src, tgt, job);
    return f.open(bufferBytes, stall, route).compose(v -> test.apply(f)).eventually(f::close);
  }

  private Future<Void> open(int bufferBytes, Duration stall, UnaryOperator<DatabaseConfig> route) {
    // The inspector waits for its queries (it runs at start-up, off the event loops): a worker here too.
    return vertx.executeBlocking(() -> {
          List<ConfigProblem> problems = new ArrayList<>();
          JobShape s = new JobInspector(sourcePool, targetPool).inspect(config.jobs().get(0), "jobs[0]", problems);
          if (s == null) throw new IllegalStateException("job does not inspect: " + problems);
          return s;
        }, false)
        .compose(s -> {
          shape = s;
          engine = new CopyEngine(vertx, shape, route.apply(config.source()), route.apply(config.target()), AGENT,
              new CopyEngine.Settings(bufferBytes, 4, Duration.ofSeconds(60), Duration.ofSeconds(60), stall), System::nanoTime);
          return LedgerSchema.ensure(targetPool);
        })
        .compose(v -> exec(tgt, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) VALUES ('"
            + name() + "', 'copying', 'x', 'x', '{}', '{}')"));
  }

  String name() {
    return config.jobs().get(0).name();
  }

  /** Records a segment over {@code range} and claims it as {@link #AGENT}. */
  Future<Segment> claim(KeyRange range) {
    int seq = segments++;
    return targetPool.preparedQuery("INSERT INTO sluice.segments (job, seq, lower_bound, upper_bound, rows_planned) VALUES ($1, $2, $3, $4, 0)")
        .execute(Tuple.of(name(), seq, range.lower() == null ? null : range.lower().toArray(new String[0]),
            range.upper() == null ? null : range.upper().toArray(new String[0])))
        .compose(rows -> ledger.claim(name(), LEASE, false))
        .compose(s -> s != null && s.seq() == seq ? Future.succeededFuture(s)
            : Future.failedFuture(new IllegalStateException("claimed " + s + " instead of segment " + seq)));
  }

  Future<SegmentCopier.Result> copy(Segment seg, boolean purge, Control control) {
    return engine.copy(seg, purge, control);
  }

  /** The failure of a copy expected to fail; fails itself, saying so, if the copy succeeded. */
  static Future<Throwable> failure(Future<SegmentCopier.Result> copy) {
    return copy.transform(ar -> ar.failed() ? Future.succeededFuture(ar.cause())
        : Future.failedFuture(new AssertionError("the copy was expected to fail; it copied " + ar.result().rows() + " rows")));
  }

  /** TestPg's blocking statements, on a worker. */
  Future<Void> exec(String db, String... sql) {
    return Async.blocking(vertx, () -> pg.exec(db, sql));
  }

  /** TestPg's blocking query for a number, on a worker. */
  Future<Long> scalar(String db, String sql) {
    return Async.blocking(vertx, () -> pg.scalar(db, sql));
  }

  /** TestPg's blocking query for a text, on a worker. */
  Future<String> string(String db, String sql) {
    return Async.blocking(vertx, () -> pg.string(db, sql));
  }

  private Future<Void> close() {
    // The engine's idle COPY sessions are JDBC connections: closed on a worker.
    Future<Void> sessions = engine == null ? Future.succeededFuture() : Async.blocking(vertx, engine::close);
    return sessions.eventually(() -> Future.join(sourcePool.close(), targetPool.close())).mapEmpty();
  }

  /**
   * A job's side of a copy for tests: batches of {@code batchRows}, a pacer if given, a hook whose
   * future each admission waits for, given the rows admitted so far (blocking JDBC in it goes
   * through {@link #exec} and the like), a cut rule on the rows admitted so far or on the segment's
   * age, a cancellation flag, and the job's clock.
   */
  final class Control implements SegmentCopier.Control {
    final AtomicLong admitted = new AtomicLong();
    final AtomicLong written = new AtomicLong();
    int batchRows = 100;
    Pacer pacer;
    LongFunction<Future<Void>> beforeAdmit = n -> Future.succeededFuture();
    LongFunction<String> cut = n -> null;
    LongFunction<String> ageCut = nanos -> null;
    LongSupplier nanos = System::nanoTime;
    volatile boolean cancel;

    @Override
    public int batchRows() {
      return batchRows;
    }

    @Override
    public Future<Void> admit(long rows) {
      long before = admitted.getAndAdd(rows);
      // compose: a hook that throws fails the admission rather than the caller.
      return Future.<Void>succeededFuture().compose(v -> beforeAdmit.apply(before))
          .compose(v -> pacer == null ? Future.succeededFuture() : pacer.acquire(rows));
    }

    @Override
    public Future<Void> whenOpen() {
      return Future.succeededFuture();
    }

    @Override
    public void written(long rows, long nanos) {
      written.addAndGet(rows);
    }

    @Override
    public String cutReason(long elapsedNanos) {
      String why = cut.apply(admitted.get());
      return why != null ? why : ageCut.apply(elapsedNanos);
    }

    @Override
    public boolean cancelled() {
      return cancel;
    }

    @Override
    public long nanoTime() {
      return nanos.getAsLong();
    }
  }
}
