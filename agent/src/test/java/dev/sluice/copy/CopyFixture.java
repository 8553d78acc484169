package dev.sluice.copy;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobInspector;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Ledger;
import dev.sluice.ledger.LedgerSchema;
import dev.sluice.ledger.Segment;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.pace.Pacer;
import dev.sluice.plan.KeyRange;
import dev.sluice.testing.TestPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * One job's COPY engine against two real databases, with a ledger in the target whose segments a
 * test claims by hand: the engine alone, without the job around it.
 */
final class CopyFixture implements AutoCloseable {
  static final String AGENT = "agent-1";
  static final Duration LEASE = Duration.ofSeconds(30);

  final TestPg pg = TestPg.get();
  final String src;
  final String tgt;
  final Vertx vertx = Vertx.vertx();
  final SluiceConfig config;
  final Pool sourcePool;
  final Pool targetPool;
  final Ledger ledger;
  final JobShape shape;
  final CopyEngine engine;
  private int segments;

  /** {@code job}: one job object; its tables must exist. */
  CopyFixture(String src, String tgt, String job, int bufferBytes) {
    this.src = src;
    this.tgt = tgt;
    config = ConfigLoader.parse(LedgerChecks.config(pg, src, tgt, job));
    sourcePool = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
    targetPool = Databases.pool(vertx, config.target(), "sluice-test-target", 2);
    List<ConfigProblem> problems = new ArrayList<>();
    shape = new JobInspector(sourcePool, targetPool).inspect(config.jobs().get(0), "jobs[0]", problems);
    if (shape == null) throw new IllegalStateException("job does not inspect: " + problems);
    Await.result(LedgerSchema.ensure(targetPool));
    ledger = new Ledger(targetPool, AGENT);
    pg.exec(tgt, "INSERT INTO sluice.jobs (name, state, source_table, target_table, key_columns, key_types) VALUES ('"
        + name() + "', 'copying', 'x', 'x', '{}', '{}')");
    engine = new CopyEngine(vertx, shape, config.source(), config.target(), AGENT,
        new CopyEngine.Settings(bufferBytes, 4, Duration.ofSeconds(60), Duration.ofSeconds(60)));
  }

  String name() {
    return config.jobs().get(0).name();
  }

  /** Records a segment over {@code range} and claims it as {@link #AGENT}. */
  Segment claim(KeyRange range) {
    int seq = segments++;
    await(targetPool.preparedQuery("INSERT INTO sluice.segments (job, seq, lower_bound, upper_bound, rows_planned) VALUES ($1, $2, $3, $4, 0)")
        .execute(Tuple.of(name(), seq, range.lower() == null ? null : range.lower().toArray(new String[0]),
            range.upper() == null ? null : range.upper().toArray(new String[0]))));
    Segment s = await(ledger.claim(name(), LEASE, false));
    if (s == null || s.seq() != seq) throw new IllegalStateException("claimed " + s + " instead of segment " + seq);
    return s;
  }

  <T> T await(Future<T> f) {
    return Await.result(f, 60, TimeUnit.SECONDS);
  }

  SegmentCopier.Result copy(Segment seg, boolean purge, Control control) {
    return await(engine.copy(seg, purge, control));
  }

  @Override
  public void close() {
    engine.close();
    Await.result(sourcePool.close());
    Await.result(targetPool.close());
    Await.result(vertx.close());
  }

  /**
   * A job's side of a copy for tests: batches of {@code batchRows}, a pacer if given, a hook run
   * (off the event loop) before each admission with the rows admitted so far, a cut rule on the
   * rows admitted so far or on the segment's age, a cancellation flag, and the job's clock.
   */
  final class Control implements SegmentCopier.Control {
    final AtomicLong admitted = new AtomicLong();
    final AtomicLong written = new AtomicLong();
    int batchRows = 100;
    Pacer pacer;
    Consumer<Long> beforeAdmit = n -> {};
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
      return vertx.<Void>executeBlocking(() -> {
        beforeAdmit.accept(before);
        return null;
      }).compose(v -> pacer == null ? Future.succeededFuture() : pacer.acquire(rows));
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
