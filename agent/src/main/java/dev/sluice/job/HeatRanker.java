package dev.sluice.job;

import dev.sluice.config.JobConfig;
import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.SegmentHeat;
import dev.sluice.ledger.SegmentReplan;
import dev.sluice.plan.ColdFirst;
import dev.sluice.plan.PlannedSegment;
import dev.sluice.plan.Planner;
import dev.sluice.plan.SegmentChain;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cold-first order of a job ({@code order: "cold-first"}): every {@value #EVERY_MS} ms (a second
 * more per 1,000 segments, so a big plan costs the ledger little) it ranks
 * the segments by the captured changes seen in their ranges ({@link ColdFirst}; before there are
 * enough, by the recency of their keys where the first key column is a number or a time) and
 * stores each one's heat, which claims follow (coldest first) and the heatmap marks. A very hot
 * pending segment is split finer (one a round) so its cold stretches are copied early: its parts
 * inherit its heat and a share of its changes, and their own changes then rank them. With
 * {@code order: "key"} it does nothing.
 */
public final class HeatRanker {
  private static final Logger log = LoggerFactory.getLogger(HeatRanker.class);
  static final long EVERY_MS = 1_000;
  private static final Set<String> ORDERED_TYPES = Set.of("smallint", "integer", "bigint", "numeric", "date",
      "timestamp without time zone", "timestamp with time zone");

  private final Vertx vertx;
  private final JobShape shape;
  private final Supplier<JobConfig> config;
  private final Pool ledger;
  private final SegmentReplan replan;
  private final Planner planner;
  private long timer = -1;
  private boolean busy;
  private int skip;
  private String lastBasis;

  public HeatRanker(Vertx vertx, JobShape shape, Supplier<JobConfig> config, Pool ledger, SegmentReplan replan, Pool source) {
    this.vertx = vertx;
    this.shape = shape;
    this.config = config;
    this.ledger = ledger;
    this.replan = replan;
    this.planner = new Planner(source);
  }

  public HeatRanker start() {
    timer = vertx.setPeriodic(1, EVERY_MS, t -> round());
    return this;
  }

  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  private void round() {
    if (busy || config.get().order() != JobConfig.Order.COLD_FIRST || skip-- > 0) return;
    busy = true;
    rank().onComplete(ar -> {
      busy = false;
      if (ar.failed()) log.debug("job {}: heat ranking skipped: {}", shape.job().name(), ErrorClassifier.describe(ar.cause()));
    });
  }

  /** One round: rank, store the heat, split the hottest pending segment that asks for it. */
  Future<Void> rank() {
    String job = shape.job().name();
    return SegmentHeat.evidence(ledger, job).compose(segments -> {
      skip = segments.size() / 1000;
      if (segments.stream().noneMatch(s -> s.state().equals("pending"))) return Future.succeededFuture();
      boolean ordered = !shape.keyTypes().isEmpty() && ORDERED_TYPES.contains(shape.keyTypes().get(0).replaceAll("\\(.*\\)", ""));
      List<SegmentHeat.Evidence> byKey = SegmentChain.keyOrder(segments, SegmentHeat.Evidence::range);
      Map<Integer, Double> recency = new HashMap<>();
      for (int i = 0; i < byKey.size(); i++) recency.put(byKey.get(i).seq(), ordered ? (double) i : Double.NaN);
      ColdFirst.Ranking r = ColdFirst.rank(segments.stream()
          .map(s -> new ColdFirst.SegmentHeat(s.seq(), s.rows(), s.changes(), recency.get(s.seq()))).toList());
      if (!r.basis().equals(lastBasis)) {
        log.info("job {}: cold-first order by {} ({} hot segment(s))", job, r.basis(), r.hot().size());
        lastBasis = r.basis();
      }
      Map<Integer, Double> heat = new HashMap<>();
      r.heat().forEach((seq, h) -> heat.put(seq, stored(h, r.hot().contains(seq), r.basis())));
      return SegmentHeat.store(ledger, job, heat).compose(v -> splitOne(segments, r));
    });
  }

  /** The heat as the ledger keeps it: at least {@link ColdFirst#HOT} exactly for hot segments. */
  static double stored(double heat, boolean hot, String basis) {
    if (basis.equals("recency of keys")) return hot ? ColdFirst.HOT + heat : Math.min(heat, 1.0);
    return hot ? Math.max(heat, ColdFirst.HOT) : Math.min(heat, ColdFirst.HOT * 0.999);
  }

  private Future<Void> splitOne(List<SegmentHeat.Evidence> segments, ColdFirst.Ranking r) {
    SegmentHeat.Evidence target = segments.stream()
        .filter(s -> s.state().equals("pending") && r.splits().containsKey(s.seq()))
        .max((a, b) -> Double.compare(r.heat().get(a.seq()), r.heat().get(b.seq()))).orElse(null);
    if (target == null) return Future.succeededFuture();
    int parts = r.splits().get(target.seq());
    long size = Math.max(ColdFirst.MIN_PART_ROWS, target.rows() / parts);
    String job = shape.job().name();
    return planner.plan(shape, target.range(), size).compose(cut -> {
      List<dev.sluice.plan.KeyRange> ranges = cut.stream().map(PlannedSegment::range).toList();
      if (ranges.size() < 2 || !SegmentChain.tiles(target.range(), ranges)) return Future.succeededFuture();
      SegmentReplan.Slot slot = new SegmentReplan.Slot(target.seq(), target.range(), target.rows(), true);
      return replan.swap(job, List.of(new SegmentReplan.Recut(List.of(slot), ranges, cut.stream().map(PlannedSegment::rows).toList())),
              target.rows(), size)
          .compose(swap -> {
            if (swap.newSeqs().isEmpty()) return Future.succeededFuture();
            log.info("job {}: hot segment {} (heat {}) split into {} parts of about {} rows; its cold stretches go first", job, target.seq(),
                Math.round(r.heat().get(target.seq())), swap.newSeqs().size(), size);
            return SegmentHeat.inherit(ledger, job, swap.newSeqs(), target.changes(), target.rows(),
                stored(r.heat().get(target.seq()), true, r.basis()));
          });
    });
  }
}
