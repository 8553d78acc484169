package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.JobConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class SegmentCacheTest {
  private static JobConfig.Cache config(long entries, long bytes) {
    return new JobConfig.Cache(true, entries, bytes, null, JobConfig.WarmMode.ALL, 1000, 1000, 500);
  }

  @Test
  void weightBoundHolds() {
    SegmentCache c = new SegmentCache("j", config(1_000_000, 64 * 1024));
    String row = "{\"id\":1,\"payload\":\"" + "x".repeat(400) + "\"}";
    for (int i = 0; i < 10_000; i++) c.putIfUnchanged(Integer.toString(i), row, c.capture());
    assertTrue(c.weightedSize() <= 64 * 1024, "weight " + c.weightedSize());
    assertTrue(c.size() > 50, "the cache is used: " + c.size());
    assertTrue(c.stats().evictionCount() > 9_000);
  }

  @Test
  void entryBoundHoldsThroughTheWeightFloor() {
    SegmentCache c = new SegmentCache("j", config(100, 10 * 1024 * 1024));
    for (int i = 0; i < 5_000; i++) c.putIfUnchanged(Integer.toString(i), "{}", c.capture());
    assertTrue(c.size() <= 100, "entries " + c.size());
  }

  @Test
  void invalidateAndClear() {
    SegmentCache c = new SegmentCache("j", config(100, 1024 * 1024));
    long g = c.capture();
    c.putIfUnchanged("1", "{\"v\":1}", g);
    assertEquals("{\"v\":1}", c.get("1"));
    c.invalidate("1");
    assertNull(c.get("1"));
    c.putIfUnchanged("1", "{\"v\":1}", g);
    assertNull(c.get("1"), "a read from before the invalidation is not put");
    c.putIfUnchanged("2", "{}", c.capture());
    c.clear();
    assertNull(c.get("2"));
  }

  @Test
  void estimateCountsWideCharactersTwice() {
    assertEquals(SegmentCache.ENTRY_OVERHEAD_BYTES + 1 + 4, SegmentCache.estimateBytes("1", "abcd"));
    assertEquals(SegmentCache.ENTRY_OVERHEAD_BYTES + 1 + 8, SegmentCache.estimateBytes("1", "ab\u20acd"));
  }

  @Test
  void metersAreRegistered() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SegmentCache c = new SegmentCache("orders", config(100, 1024 * 1024));
    c.bind(registry);
    assertEquals(0.0, registry.get("sluice.cache.weight.bytes").tag("sluice_job", "orders").gauge().value());
    c.putIfUnchanged("1", "{}", c.capture());
    assertEquals((double) c.weightedSize(), registry.get("sluice.cache.weight.bytes").tag("sluice_job", "orders").gauge().value());
    assertTrue(c.weightedSize() > 0);
    assertEquals(1024.0 * 1024, registry.get("sluice.cache.max.weight.bytes").tag("sluice_job", "orders").gauge().value());
  }

  @Test
  void reloadChangesBoundsAndCanTurnTheCacheOff() {
    SegmentCache c = new SegmentCache("j", config(1_000_000, 1024 * 1024));
    for (int i = 0; i < 2_000; i++) c.putIfUnchanged(Integer.toString(i), "x".repeat(200), c.capture());
    assertTrue(c.weightedSize() > 256 * 1024);
    c.applyConfig(config(1_000_000, 64 * 1024));
    c.putIfUnchanged("last", "{}", c.capture());
    assertTrue(c.weightedSize() <= 64 * 1024, "weight after shrinking: " + c.weightedSize());
    assertTrue(c.live());
    c.applyConfig(new JobConfig.Cache(false, 100, 1024 * 1024, null, JobConfig.WarmMode.ALL, 1000, 1000, 500));
    assertEquals(0, c.size());
    assertTrue(!c.live() && !c.enabled());
  }

  @Test
  void cacheRegainingChangeAnnouncementsStartsEmpty() {
    java.util.concurrent.atomic.AtomicBoolean hears = new java.util.concurrent.atomic.AtomicBoolean(true);
    SegmentCache c = new SegmentCache("j", config(100, 1024 * 1024), hears::get);
    assertTrue(c.live());
    c.putIfUnchanged("1", "{\"v\":1}", c.capture());
    hears.set(false); // another agent's applier takes over: changes are no longer announced here
    assertTrue(!c.live());
    hears.set(true);
    assertTrue(c.live());
    assertNull(c.get("1"), "entries from before may predate changes applied elsewhere");
  }
}
