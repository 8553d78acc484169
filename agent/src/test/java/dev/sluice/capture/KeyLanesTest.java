package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyLanesTest {

  private static List<List<String>> keys(int n) {
    List<List<String>> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) keys.add(List.of(String.valueOf(i), "k" + i));
    return keys;
  }

  @Test
  void aSmallBatchIsOneLane() {
    assertEquals(1, KeyLanes.split(keys(1_999), 4).size());
    assertEquals(1, KeyLanes.split(keys(10), 4).size());
  }

  @Test
  void aLargeBatchIsSplitIntoAtMostTheLanesAndEveryKeyIsInExactlyOne() {
    List<List<String>> keys = keys(10_000);
    List<List<List<String>>> lanes = KeyLanes.split(keys, 4);
    assertEquals(4, lanes.size());
    Set<List<String>> seen = new HashSet<>();
    int total = 0;
    for (List<List<String>> lane : lanes) {
      assertTrue(lane.size() > 2_000 && lane.size() < 3_000, "lanes are about even by hash: " + lane.size());
      seen.addAll(lane);
      total += lane.size();
    }
    assertEquals(10_000, total);
    assertEquals(new HashSet<>(keys), seen);
    assertEquals(2, KeyLanes.split(keys, 2).size(), "never more lanes than allowed");
    assertEquals(3, KeyLanes.split(keys(3_500), 4).size(), "at least a thousand keys a lane");
  }

  @Test
  void singleColumnKeysAreSpreadEvenlyToo() {
    List<List<String>> keys = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) keys.add(List.of(String.valueOf(1_000_000 + i * 7)));
    for (List<List<String>> lane : KeyLanes.split(keys, 4)) assertTrue(lane.size() > 2_000 && lane.size() < 3_000, "lane of " + lane.size());
  }

  @Test
  void aKeyIsAlwaysInTheSameLaneWhateverTheBatch() {
    List<List<List<String>>> a = KeyLanes.split(keys(8_000), 4);
    List<List<String>> reversed = keys(4_000);
    java.util.Collections.reverse(reversed);
    List<List<List<String>>> b = KeyLanes.split(reversed, 4);
    for (int i = 0; i < 4; i++) {
      for (List<String> k : b.get(i)) assertTrue(a.get(i).contains(k), k + " changed lanes between batches");
    }
  }

  @Test
  void theStatementSizeFollowsTheRowsWidthWithinItsBounds() {
    // Narrow rows (100 characters a key): as many keys as allowed.
    assertEquals(KeyLanes.MAX_STATEMENT_KEYS, KeyLanes.nextStatementKeys(1_000, 1_000, 100_000));
    // 2 KiB rows: 2 Mi characters / 2048 = 1024 keys.
    assertEquals(1_024, KeyLanes.nextStatementKeys(1_000, 1_000, 2_048L * 1_000));
    // 100 KB rows (large json): never fewer than the floor.
    assertEquals(KeyLanes.MIN_STATEMENT_KEYS, KeyLanes.nextStatementKeys(1_000, 500, 50_000_000L));
    // Nothing moved (every key deleted): nothing learned.
    assertEquals(777, KeyLanes.nextStatementKeys(777, 1_000, 0));
    assertEquals(777, KeyLanes.nextStatementKeys(777, 0, 10));
  }

  @Test
  void theRowTextHeldAtOnceIsBoundedByTheLanesWhateverTheBatch() {
    // Wide rows: each statement aims at STATEMENT_CHARS, so 4 lanes hold at most about 4 x that.
    int next = KeyLanes.nextStatementKeys(1_000, 1_000, 8_000L * 1_000);
    assertTrue((long) next * 8_000 <= KeyLanes.STATEMENT_CHARS, "one statement's rows: " + (long) next * 8_000);
  }
}
