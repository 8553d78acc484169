package dev.sluice.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hot segments last: a segment whose keys the users are writing now, copied early, has its changes
 * captured and re-applied again and again until the job ends; copied last, most of those changes
 * land before its copy and cost nothing. So segments are ranked by heat and claimed coldest first.
 *
 * <pre>
 *   density(s) = changes(s) / rows(s)
 *   heat(s)    = density(s) / baseline      baseline = the mean density of the segments but the hottest
 *                                           {@value #TRIM_SHARE} of them (so one very hot segment does not
 *                                           hide a merely hot one), at least one change over all rows
 *   hot     = heat >= {@value #HOT} and at least {@value #MIN_HOT_CHANGES} changes
 *   split   = heat >= {@value #SPLIT}: into min({@value #MAX_PARTS}, heat / {@value #HOT}, rows / {@value #MIN_PART_ROWS}) parts
 * </pre>
 *
 * A very hot segment is split finer so its cold stretches are copied early and only the stretch
 * the users write stays for last. Changes count once the job has {@value #MIN_CHANGES} of them;
 * before that the recency of the segment's keys ranks (higher = written more recently: with an
 * increasing key the last segments), the top {@value #RECENT_SHARE} of them marked hot, none split.
 * With neither, every heat is 0: key order. Pure.
 */
public final class ColdFirst {
  public static final double HOT = 4.0;
  public static final double SPLIT = 16.0;
  public static final long MIN_CHANGES = 100;
  public static final long MIN_HOT_CHANGES = 20;
  public static final int MAX_PARTS = 8;
  public static final long MIN_PART_ROWS = 1000;
  public static final double RECENT_SHARE = 0.1;
  public static final double TRIM_SHARE = 0.1;

  /** A segment's evidence: captured changes in its range ({@code < 0}: unknown), and its keys' recency (NaN: unknown). */
  public record SegmentHeat(int seq, long rows, long changes, double recency) {}

  /** The outcome: what it rests on, each segment's heat, the hot ones, and how many parts each very hot one should become. */
  public record Ranking(String basis, Map<Integer, Double> heat, Set<Integer> hot, Map<Integer, Integer> splits) {
    /** Segments in the order to copy them: coldest first, key order among equals. */
    public List<Integer> order() {
      List<Integer> seqs = new ArrayList<>(heat.keySet());
      seqs.sort(Comparator.<Integer>comparingDouble(heat::get).thenComparing(Comparator.naturalOrder()));
      return seqs;
    }
  }

  private ColdFirst() {}

  private static double density(SegmentHeat s) {
    return Math.max(0, s.changes()) / (double) Math.max(1, s.rows());
  }

  private static double baseline(List<SegmentHeat> segments, long allRows) {
    List<SegmentHeat> byDensity = new ArrayList<>(segments);
    byDensity.sort(Comparator.comparingDouble(ColdFirst::density));
    int keep = byDensity.size() - (int) Math.floor(byDensity.size() * TRIM_SHARE);
    long changes = 0;
    long rows = 0;
    for (SegmentHeat s : byDensity.subList(0, Math.max(1, keep))) {
      changes += Math.max(0, s.changes());
      rows += Math.max(1, s.rows());
    }
    return Math.max((double) changes / rows, 1.0 / allRows);
  }

  public static Ranking rank(List<SegmentHeat> segments) {
    long changes = 0;
    long rows = 0;
    for (SegmentHeat s : segments) {
      if (s.changes() > 0) changes += s.changes();
      rows += Math.max(1, s.rows());
    }
    Map<Integer, Double> heat = new HashMap<>();
    Set<Integer> hot = new TreeSet<>();
    Map<Integer, Integer> splits = new HashMap<>();
    if (changes >= MIN_CHANGES) {
      double baseline = baseline(segments, rows);
      for (SegmentHeat s : segments) {
        double h = density(s) / baseline;
        heat.put(s.seq(), h);
        if (h >= HOT && s.changes() >= MIN_HOT_CHANGES) hot.add(s.seq());
        int parts = (int) Math.min(MAX_PARTS, Math.min(Math.floor(h / HOT), s.rows() / MIN_PART_ROWS));
        if (h >= SPLIT && parts >= 2) splits.put(s.seq(), parts);
      }
      return new Ranking("captured changes", heat, hot, splits);
    }
    List<SegmentHeat> known = segments.stream().filter(s -> !Double.isNaN(s.recency())).toList();
    double max = known.stream().mapToDouble(SegmentHeat::recency).max().orElse(Double.NaN);
    double min = known.stream().mapToDouble(SegmentHeat::recency).min().orElse(Double.NaN);
    if (known.isEmpty() || !(max > min)) {
      for (SegmentHeat s : segments) heat.put(s.seq(), 0.0);
      return new Ranking("none yet (key order)", heat, hot, splits);
    }
    for (SegmentHeat s : segments) heat.put(s.seq(), Double.isNaN(s.recency()) ? 0.0 : (s.recency() - min) / (max - min));
    List<SegmentHeat> byRecency = new ArrayList<>(known);
    byRecency.sort(Comparator.comparingDouble(SegmentHeat::recency).reversed());
    int n = Math.max(1, (int) Math.round(known.size() * RECENT_SHARE));
    for (int i = 0; i < n; i++) hot.add(byRecency.get(i).seq());
    return new Ranking("recency of keys", heat, hot, splits);
  }
}
