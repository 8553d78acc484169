package dev.sluice.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SegmentChainTest {
  /** A segment: its seq, its bounds (null: open) and whether it may be re-planned. */
  record Seg(int seq, KeyRange range, boolean free) {}

  private static List<String> k(String v) {
    return v == null ? null : List.of(v);
  }

  private static Seg seg(int seq, String lo, String hi, boolean free) {
    return new Seg(seq, new KeyRange(k(lo), k(hi)), free);
  }

  // Key order: 0 [-, 10), 4 [10, 20), 1 [20, 30), 5 [30, 40), 2 [40, 50), 3 [50, -): seqs 4 and 5 were split off later.
  private final List<Seg> segs = List.of(seg(3, "50", null, true), seg(1, "20", "30", true), seg(0, null, "10", false),
      seg(5, "30", "40", true), seg(4, "10", "20", true), seg(2, "40", "50", false));

  @Test
  void keyOrderFollowsTheBoundsNotTheSeqs() {
    List<Seg> ordered = SegmentChain.keyOrder(segs, Seg::range);
    assertEquals(List.of(0, 4, 1, 5, 2, 3), ordered.stream().map(Seg::seq).toList());
    assertEquals(List.of(), SegmentChain.keyOrder(List.<Seg>of(), Seg::range));
  }

  @Test
  void segmentsThatDoNotTileAreRefused() {
    assertThrows(IllegalStateException.class, () -> SegmentChain.keyOrder(List.of(seg(0, null, "10", true), seg(1, "11", null, true)),
        Seg::range), "a gap");
    assertThrows(IllegalStateException.class, () -> SegmentChain.keyOrder(List.of(seg(0, null, "10", true), seg(1, "10", "20", true)),
        Seg::range), "no open end");
    assertThrows(IllegalStateException.class, () -> SegmentChain.keyOrder(List.of(seg(0, null, null, true), seg(1, null, "5", true)),
        Seg::range), "two open starts");
  }

  @Test
  void runsAreMaximalAndAdjacentInKeyOrder() {
    List<List<Seg>> runs = SegmentChain.runs(SegmentChain.keyOrder(segs, Seg::range), Seg::free);
    assertEquals(List.of(List.of(4, 1, 5), List.of(3)), runs.stream().map(r -> r.stream().map(Seg::seq).toList()).toList());
    assertEquals(new KeyRange(k("10"), k("40")), SegmentChain.span(runs.get(0), Seg::range));
    assertEquals(new KeyRange(k("50"), null), SegmentChain.span(runs.get(1), Seg::range), "the open last segment stays open");
    assertEquals(List.of(), SegmentChain.runs(List.of(seg(0, null, null, false)), Seg::free));
    assertEquals(1, SegmentChain.runs(List.of(seg(0, null, null, true)), Seg::free).size());
  }

  @Test
  void tilesChecksEndsGapsAndOverlaps() {
    KeyRange span = new KeyRange(k("10"), null);
    assertTrue(SegmentChain.tiles(span, List.of(new KeyRange(k("10"), k("15")), new KeyRange(k("15"), null))));
    assertFalse(SegmentChain.tiles(span, List.of(new KeyRange(k("10"), k("15")), new KeyRange(k("16"), null))), "gap");
    assertFalse(SegmentChain.tiles(span, List.of(new KeyRange(k("10"), k("15")), new KeyRange(k("14"), null))), "overlap");
    assertFalse(SegmentChain.tiles(span, List.of(new KeyRange(k("10"), k("15")))), "short of the end");
    assertFalse(SegmentChain.tiles(span, List.of(new KeyRange(null, null))), "wrong start");
    assertFalse(SegmentChain.tiles(span, List.of()), "nothing");
  }
}
