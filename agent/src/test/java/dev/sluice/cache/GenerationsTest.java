package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stale-put race, replayed step by step (no threads needed: the interleavings are explicit). */
class GenerationsTest {
  private final Generations g = new Generations();
  private final Map<String, String> cache = new HashMap<>();

  private boolean put(String k, String v, long captured) {
    return g.putIfUnchanged(k, captured, () -> cache.put(k, v));
  }

  private void invalidate(String k) {
    g.invalidate(k, () -> cache.remove(k));
  }

  @Test
  void missThatReadBeforeAnInvalidationDoesNotPut() {
    long captured = g.capture(); // reader: capture, then read v1 from the target
    invalidate("k"); // applier: wrote v2, invalidates
    assertFalse(put("k", "v1", captured)); // reader: its put of v1 is refused
    assertNull(cache.get("k"));
  }

  @Test
  void missThatReadAfterAnInvalidationPuts() {
    invalidate("k");
    long captured = g.capture(); // the read starts after the write was committed: it read v2
    assertTrue(put("k", "v2", captured));
    assertEquals("v2", cache.get("k"));
  }

  @Test
  void invalidationAfterAPutRemovesIt() {
    long captured = g.capture();
    assertTrue(put("k", "v1", captured));
    invalidate("k");
    assertNull(cache.get("k"));
    assertFalse(put("k", "v1", captured), "a second put from the same old read is refused too");
  }

  @Test
  void otherStripesAreUnaffected() {
    long captured = g.capture();
    String other = "other";
    for (int i = 0; Generations.stripe(other) == Generations.stripe("k"); i++) other = "other" + i;
    invalidate("k");
    assertTrue(put(other, "x", captured));
  }

  @Test
  void sameStripeSharesAStampButNeverServesStale() {
    String a = "a";
    String b = null;
    for (int i = 0; b == null; i++) if (Generations.stripe("b" + i) == Generations.stripe(a)) b = "b" + i;
    long captured = g.capture();
    invalidate(a);
    assertFalse(put(b, "x", captured), "a colliding key only loses its put");
  }

  @Test
  void clearRefusesEveryEarlierCapture() {
    long before = g.capture();
    assertTrue(put("k", "v", before));
    g.invalidateAll(cache::clear);
    assertTrue(cache.isEmpty());
    assertFalse(put("k", "v", before));
    assertFalse(put("unrelated", "v", before));
    assertTrue(put("k", "v", g.capture()));
  }

  @Test
  void announcedBatchStaysOutUntilTheNextAnnouncement() {
    java.util.function.Consumer<String> remove = cache::remove;
    assertTrue(put("k", "v1", g.capture()));
    g.writing(java.util.List.of("k"), remove); // the applier announces k, then writes v2
    assertNull(cache.get("k"));
    long duringWrite = g.capture(); // a reader starts while v2 is not committed yet: it reads v1
    assertFalse(put("k", "v1", duringWrite), "no put while the batch is being written");
    g.writing(java.util.List.of("other"), remove); // the next batch: k's write is committed
    assertFalse(put("k", "v1", duringWrite), "the slow reader's v1 is still refused");
    assertTrue(put("k", "v2", g.capture()), "a read after the write may put");
    assertEquals("v2", cache.get("k"));
  }
}
