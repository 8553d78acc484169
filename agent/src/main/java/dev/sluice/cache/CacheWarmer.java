package dev.sluice.cache;

import dev.sluice.config.JobConfig;
import dev.sluice.pace.Pacer;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads verified segments' rows from the target into the job's cache: all of them, the first
 * {@code cache.warmFirstRows} of each, or none ({@code cache.warm}).
 *
 * <p>Warming is the least important work of the agent, so it yields: one segment and one batch at a
 * time, at its own rate ({@code cache.warmRowsPerSecond}, its own bucket, never the copy's, charged the
 * rows each batch read once it has; a segment ends with its first short batch), only
 * while the job's gate is open (not paused, by an operator or for drift, nor held by a circuit
 * breaker, its time windows or its health sensors: {@code hold} says why not), and not once the cache
 * is nearly full (it would only evict what reads brought in). Batches use keyset pagination, each a
 * short statement of its own, so warming never holds a snapshot open; each batch captures the cache
 * generation before its read, so it cannot put a row a change replaced meanwhile.
 */
public final class CacheWarmer {
  private static final Logger log = LoggerFactory.getLogger(CacheWarmer.class);
  static final long HOLD_RECHECK_MS = 1000;
  static final long ERROR_RETRY_MS = 5000;

  private record Item(int seq, KeyRange range, long epoch) {}

  private final Vertx vertx;
  private final String job;
  private final RowLookup lookup;
  private final SegmentCache cache;
  private final ReadStats stats;
  private final Supplier<String> hold;
  private final Pacer pacer;
  private final Deque<Item> queue = new ArrayDeque<>();
  private final Set<Integer> queued = new HashSet<>();
  private volatile JobConfig.Cache config;
  private IntPredicate stillVerified = seq -> true;
  private long epoch;
  private boolean running;
  private volatile boolean stopped;
  private boolean fullNoted;

  public CacheWarmer(Vertx vertx, String job, JobConfig.Cache config, RowLookup lookup, SegmentCache cache, ReadStats stats,
      Supplier<String> hold, LongSupplier nanos) {
    this.vertx = vertx;
    this.job = job;
    this.config = config;
    this.lookup = lookup;
    this.cache = cache;
    this.stats = stats;
    this.hold = hold;
    this.pacer = new Pacer(vertx, config.warmRowsPerSecond(), config.warmBatchRows(), nanos);
  }

  /** Lets warming drop a segment that left verified while it was queued or being warmed. */
  public void watching(IntPredicate verified) {
    this.stillVerified = verified;
  }

  /** A reloaded {@code cache} section: the warming mode, rate and batch size apply to the next batch. */
  public void applyConfig(JobConfig.Cache next) {
    config = next;
    pacer.setRate(next.warmRowsPerSecond(), next.warmBatchRows());
  }

  public JobConfig.WarmMode mode() {
    return config.warm();
  }

  public synchronized void enqueue(int seq, KeyRange range) {
    if (config.warm() == JobConfig.WarmMode.NONE || !cache.enabled() || stopped || !queued.add(seq)) return;
    queue.addLast(new Item(seq, range, epoch));
    vertx.runOnContext(v -> next());
  }

  /** The cache was cleared: forget the queue and what is in progress, and warm these segments again. */
  public void reset(Map<Integer, KeyRange> verified) {
    synchronized (this) {
      epoch++;
      queue.clear();
      queued.clear();
      fullNoted = false;
    }
    verified.forEach(this::enqueue);
  }

  public void stop() {
    stopped = true;
  }

  private void next() {
    Item item;
    synchronized (this) {
      if (running || stopped) return;
      item = queue.pollFirst();
      if (item == null) return;
      queued.remove(item.seq());
      running = true;
    }
    long t0 = System.nanoTime();
    warm(item, null, 0).onComplete(ar -> {
      synchronized (this) {
        running = false;
      }
      if (ar.failed() && stopped) {
        // The agent is stopping: its timers are cancelled and its pools close under the batch in flight.
        log.debug("job {}: warming segment {} ended by the stop: {}", job, item.seq(), ErrorClassifier.describe(ar.cause()));
        return;
      }
      if (ar.failed()) {
        log.warn("job {}: warming segment {} failed, retrying in {} ms: {}", job, item.seq(), ERROR_RETRY_MS, ErrorClassifier.describe(ar.cause()));
        vertx.setTimer(ERROR_RETRY_MS, t -> enqueue(item.seq(), item.range()));
      } else if (ar.result() > 0) {
        log.debug("job {}: warmed segment {}: {} rows in {} ms", job, item.seq(), ar.result(), (System.nanoTime() - t0) / 1_000_000);
      }
      next();
    });
  }

  private synchronized boolean current(Item item) {
    return item.epoch() == epoch;
  }

  /** Warms one segment from after {@code after}; completes with the rows put. */
  private Future<Long> warm(Item item, List<String> after, long done) {
    JobConfig.Cache cfg = config;
    if (stopped || !current(item) || !stillVerified.test(item.seq()) || cfg.warm() == JobConfig.WarmMode.NONE || !cache.enabled()) {
      return Future.succeededFuture(done);
    }
    if (cache.nearlyFull()) {
      if (!fullNoted) log.info("job {}: read cache is 90% full; warming stops (reads still fill it)", job);
      fullNoted = true;
      return Future.succeededFuture(done);
    }
    String why = hold.get();
    if (why == null && !cache.live()) why = "the cache is not live";
    if (why != null) return vertx.timer(HOLD_RECHECK_MS).compose(v -> warm(item, after, done));
    long left = cfg.warm() == JobConfig.WarmMode.FIRST ? cfg.warmFirstRows() - done : Long.MAX_VALUE;
    int limit = (int) Math.min(cfg.warmBatchRows(), left);
    if (limit <= 0) return Future.succeededFuture(done);
    long generation = cache.capture();
    long t0 = System.nanoTime();
    return lookup.warmBatch(item.range(), after, limit).onComplete(ar -> cache.recordLoad(System.nanoTime() - t0, ar.succeeded()))
        .compose(rows -> {
          long put = 0;
          for (RowLookup.KeyedRow r : rows) if (cache.putIfUnchanged(KeyCodec.text(r.key()), r.row(), generation)) put++;
          stats.warmed(put);
          // The pace is charged the rows this batch read, once it has: charging a full batch up front
          // over-charged each segment's last, short one (segments shorter than a batch ran at a fraction of the rate).
          Future<Void> paced = rows.isEmpty() ? Future.succeededFuture() : pacer.acquire(rows.size());
          return rows.size() < limit ? paced.map(done + rows.size())
              : paced.compose(v -> warm(item, rows.get(rows.size() - 1).key(), done + rows.size()));
        });
  }
}
