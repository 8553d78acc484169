package dev.sluice.job;

import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.SegmentReplan;
import dev.sluice.ledger.SegmentReplan.Recut;
import dev.sluice.ledger.SegmentReplan.Slot;
import dev.sluice.plan.KeyRange;
import dev.sluice.plan.PlannedSegment;
import dev.sluice.plan.Planner;
import dev.sluice.plan.SegmentChain;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-cuts a running job's pending segments when a reload changes {@code segment.rows}: each run of
 * adjacent segments nobody has started is walked again on the source at the new size (the planner's
 * index walk, read-only, outside any ledger transaction) and swapped in the ledger in one
 * transaction (see {@link SegmentReplan}). Segments copying, copied, verified or failed keep their
 * ranges. A run that another agent starts on during the walk is left whole; the walk is then tried
 * again from the ledger as it is, up to {@value #ATTEMPTS} times, since the next claim usually takes
 * only the first segment of a run.
 */
public final class Replanner {
  private static final Logger log = LoggerFactory.getLogger(Replanner.class);
  static final int ATTEMPTS = 3;

  private final Planner planner;
  private final SegmentReplan ledger;
  private final Map<String, Future<Integer>> running = new ConcurrentHashMap<>();

  public Replanner(Pool source, SegmentReplan ledger) {
    this.planner = new Planner(source);
    this.ledger = ledger;
  }

  /**
   * Re-plans the job's pending segments at {@code newSize} rows; completes with the segments replaced
   * (0 when none). A job's re-plans run one after the other, so the last size asked for is the one left.
   */
  public Future<Integer> replan(JobShape shape, long oldSize, long newSize) {
    Future<Integer> next = running.getOrDefault(shape.job().name(), Future.succeededFuture(0)).transform(x -> attempt(shape, oldSize, newSize, 1, 0));
    running.put(shape.job().name(), next);
    return next;
  }

  private Future<Integer> attempt(JobShape shape, long oldSize, long newSize, int n, int replacedSoFar) {
    String job = shape.job().name();
    long t0 = System.nanoTime();
    return ledger.slots(job)
        .compose(slots -> {
          if (slots.isEmpty()) return Future.succeededFuture(List.<Recut>of());
          List<Slot> ordered = SegmentChain.keyOrder(slots, Slot::range);
          return recut(shape, SegmentChain.runs(ordered, Slot::replannable), newSize);
        })
        .compose(recuts -> {
          if (recuts.isEmpty()) return Future.succeededFuture(new SegmentReplan.Swap(0, 0, List.of(), List.of()));
          return ledger.swap(job, recuts, oldSize, newSize);
        })
        .compose(swap -> {
          int replaced = replacedSoFar + swap.oldSegments();
          if (swap.oldSegments() > 0) {
            log.info("job {}: {} pending segments re-cut at {} rows into {} in {} ms", job, swap.oldSegments(), newSize,
                swap.newSegments(), (System.nanoTime() - t0) / 1_000_000);
          }
          if (swap.skipped().isEmpty()) return Future.succeededFuture(replaced);
          log.info("job {}: pending segments left at their size for now ({}): {}", job,
              n < ATTEMPTS ? "trying again" : "giving up after " + ATTEMPTS + " tries", String.join("; ", swap.skipped()));
          return n < ATTEMPTS ? attempt(shape, oldSize, newSize, n + 1, replaced) : Future.succeededFuture(replaced);
        })
        .onFailure(e -> log.warn("job {}: pending segments not re-cut at {} rows (they keep {}): {}", job, newSize, oldSize,
            ErrorClassifier.describe(e)));
  }

  /** Walks each run at the new size, one after the other; a run whose cut would not change is dropped. */
  private Future<List<Recut>> recut(JobShape shape, List<List<Slot>> runs, long newSize) {
    List<Recut> out = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (List<Slot> run : runs) {
      KeyRange span = SegmentChain.span(run, Slot::range);
      chain = chain.compose(v -> planner.plan(shape, span, newSize)).map(cut -> {
        List<KeyRange> ranges = cut.stream().map(PlannedSegment::range).toList();
        if (!SegmentChain.tiles(span, ranges)) throw new IllegalStateException("a re-cut of " + span + " does not tile it");
        if (!ranges.equals(run.stream().map(Slot::range).toList())) {
          out.add(new Recut(run, ranges, cut.stream().map(PlannedSegment::rows).toList()));
        }
        return null;
      });
    }
    return chain.map(v -> out);
  }
}
