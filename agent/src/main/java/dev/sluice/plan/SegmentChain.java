package dev.sluice.plan;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A job's segments tile its key space: the first has no lower bound, each one's upper bound is the
 * next one's lower bound (the same text), the last has no upper bound. Seq order stops being key
 * order once segments are cut in flight or re-planned (new segments take new numbers), so whoever
 * needs key order follows the chain instead; that needs no knowledge of the key's types. Pure.
 */
public final class SegmentChain {
  private SegmentChain() {}

  /** The segments in key order, following the chain from the unbounded first one; fails if they do not tile. */
  public static <T> List<T> keyOrder(Collection<T> segments, Function<T, KeyRange> range) {
    Map<List<String>, T> byLower = new HashMap<>();
    for (T s : segments) {
      if (byLower.put(range.apply(s).lower(), s) != null) {
        throw new IllegalStateException("two segments start at " + range.apply(s).lower());
      }
    }
    List<T> out = new ArrayList<>(segments.size());
    List<String> at = null;
    while (out.size() < segments.size()) {
      T s = byLower.get(at);
      if (s == null) throw new IllegalStateException("no segment starts at " + at + ": the segments do not tile the key space");
      out.add(s);
      at = range.apply(s).upper();
      if (at == null) break;
    }
    if (out.size() != segments.size() || (!segments.isEmpty() && at != null)) {
      throw new IllegalStateException("the segments do not tile the key space (" + out.size() + " of " + segments.size() + " chained)");
    }
    return out;
  }

  /** Maximal runs of segments adjacent in key order that {@code member} accepts; {@code inKeyOrder} as {@link #keyOrder} gives it. */
  public static <T> List<List<T>> runs(List<T> inKeyOrder, Predicate<T> member) {
    List<List<T>> out = new ArrayList<>();
    List<T> run = new ArrayList<>();
    for (T s : inKeyOrder) {
      if (member.test(s)) {
        run.add(s);
      } else if (!run.isEmpty()) {
        out.add(List.copyOf(run));
        run.clear();
      }
    }
    if (!run.isEmpty()) out.add(List.copyOf(run));
    return out;
  }

  /** The key span a run of adjacent segments covers: from the first's lower bound to the last's upper bound. */
  public static <T> KeyRange span(List<T> run, Function<T, KeyRange> range) {
    return new KeyRange(range.apply(run.get(0)).lower(), range.apply(run.get(run.size() - 1)).upper());
  }

  /** True when {@code pieces}, in order, cover exactly {@code span}: no gap, no overlap, same ends. */
  public static boolean tiles(KeyRange span, List<KeyRange> pieces) {
    if (pieces.isEmpty()) return false;
    List<String> at = span.lower();
    for (int i = 0; i < pieces.size(); i++) {
      KeyRange p = pieces.get(i);
      if (!Objects.equals(p.lower(), at)) return false;
      if (p.upper() == null && i < pieces.size() - 1) return false;
      at = p.upper();
    }
    return Objects.equals(at, span.upper());
  }
}
