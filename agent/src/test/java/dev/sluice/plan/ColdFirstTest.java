package dev.sluice.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.plan.ColdFirst.SegmentHeat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ColdFirstTest {
  @Test
  void capturedChangesRankColdFirstMarkHotAndSplitTheVeryHot() {
    List<SegmentHeat> segs = new ArrayList<>();
    for (int i = 0; i < 10; i++) segs.add(new SegmentHeat(i, 10_000, 10, Double.NaN));
    segs.set(3, new SegmentHeat(3, 10_000, 2_000, Double.NaN));  // very hot
    segs.set(7, new SegmentHeat(7, 10_000, 150, Double.NaN));    // hot
    segs.set(5, new SegmentHeat(5, 10_000, 0, Double.NaN));      // coldest
    ColdFirst.Ranking r = ColdFirst.rank(segs);
    assertEquals("captured changes", r.basis());
    assertEquals(List.of(5, 0, 1, 2, 4, 6, 8, 9, 7, 3), r.order());
    assertEquals(Set.of(3, 7), r.hot());
    // baseline: the 9 coolest, 220 changes / 90,000 rows; segment 7: 0.015 / 0.00244 = 6.1; segment 3: 82 -> 8 parts
    assertEquals(Map.of(3, 8), r.splits());
  }

  @Test
  void aSegmentSixteenTimesTheMeanIsSplitIntoPartsOfAtLeastAThousandRows() {
    List<SegmentHeat> segs = new ArrayList<>();
    for (int i = 0; i < 50; i++) segs.add(new SegmentHeat(i, 10_000, 2, Double.NaN));
    segs.set(10, new SegmentHeat(10, 10_000, 5_000, Double.NaN));
    segs.set(20, new SegmentHeat(20, 1_500, 5_000, Double.NaN)); // too small to cut in two parts of 1,000
    ColdFirst.Ranking r = ColdFirst.rank(segs);
    assertEquals(Map.of(10, 8), r.splits());
    assertTrue(r.hot().containsAll(Set.of(10, 20)));
  }

  @Test
  void beforeEnoughChangesTheMostRecentKeysGoLast() {
    List<SegmentHeat> segs = new ArrayList<>();
    for (int i = 0; i < 20; i++) segs.add(new SegmentHeat(i, 1000, i == 0 ? 5 : 0, i)); // recency rises with the key
    ColdFirst.Ranking r = ColdFirst.rank(segs);
    assertEquals("recency of keys", r.basis());
    assertEquals(Set.of(18, 19), r.hot());
    assertEquals(19, r.order().get(19));
    assertEquals(Map.of(), r.splits());
  }

  @Test
  void noEvidenceIsKeyOrder() {
    List<SegmentHeat> segs = List.of(new SegmentHeat(2, 10, -1, Double.NaN), new SegmentHeat(1, 10, -1, Double.NaN));
    ColdFirst.Ranking r = ColdFirst.rank(segs);
    assertEquals(List.of(1, 2), r.order());
    assertTrue(r.hot().isEmpty());
  }
}
