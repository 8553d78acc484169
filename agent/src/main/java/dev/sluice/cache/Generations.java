package dev.sluice.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * Invalidation generations: what keeps a read-through or a warming batch from putting a row that an
 * applied change has already replaced.
 *
 * <p>The race it closes: a miss reads v1 from the target; the change applier writes v2 and invalidates
 * the key; the miss then puts v1, and the cache serves v1 forever. Every invalidation takes the next
 * number of one job-wide sequence and stamps it on the key's stripe (4096 stripes by key hash).
 * A reader captures the sequence ({@link #capture()}) before its database read, and may put a key only
 * if neither the key's stripe nor the whole cache ({@link #invalidateAll}) was stamped after that
 * capture; check and put happen under the stripe's lock, as do stamp and remove, so no invalidation
 * can fall between them. An invalidation always follows the commit of the write it announces, so a
 * reader that captured after the stamp reads the new row. Stripes make unrelated keys share a stamp
 * now and then: that only skips a put, never serves a stale row.
 *
 * <p>An applier may announce a batch before writing it ({@link #writing}): its keys are then
 * stamped and refused any put until the applier's next announcement, which implies the batch was
 * written (the applier of a job applies one batch at a time); they are stamped again then, which
 * refuses any put whose read began while the batch was being written.
 *
 * <p>Pure: no clock, no threads; the cache operations are passed in.
 */
public final class Generations {
  public static final int STRIPES = 4096;

  private final AtomicLong sequence = new AtomicLong();
  private final long[] stamps = new long[STRIPES];
  private final Object[] locks = new Object[STRIPES];
  // Puts share it, a whole-cache invalidation takes it alone: no put straddles a clear.
  private final ReentrantReadWriteLock all = new ReentrantReadWriteLock();
  private long clearedAt;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private List<String> lastBatch = List.of();

  public Generations() {
    for (int i = 0; i < STRIPES; i++) locks[i] = new Object();
  }

  /** The generation to hold while reading from the database, before the read starts. */
  public long capture() {
    return sequence.get();
  }

  static int stripe(String key) {
    int h = key.hashCode();
    return (h ^ (h >>> 16)) & (STRIPES - 1);
  }

  /** Stamps the key's stripe, then runs {@code remove}, atomically for this stripe. */
  public void invalidate(String key, Runnable remove) {
    int s = stripe(key);
    synchronized (locks[s]) {
      stamps[s] = sequence.incrementAndGet();
      remove.run();
    }
  }

  /**
   * An applier is about to write these keys: the previous batch (written by now) is stamped again and
   * released, these are stamped, removed through {@code remove}, and refused puts until the next call.
   */
  public synchronized void writing(List<String> keys, Consumer<String> remove) {
    for (String k : lastBatch) {
      int s = stripe(k);
      synchronized (locks[s]) {
        stamps[s] = sequence.incrementAndGet();
        inFlight.remove(k);
        remove.accept(k);
      }
    }
    List<String> now = new ArrayList<>(keys.size());
    for (String k : keys) {
      int s = stripe(k);
      synchronized (locks[s]) {
        stamps[s] = sequence.incrementAndGet();
        inFlight.add(k);
        remove.accept(k);
      }
      now.add(k);
    }
    lastBatch = now;
  }

  /**
   * Stamps every key, then runs {@code clear}; puts captured before this are refused from then on.
   */
  public void invalidateAll(Runnable clear) {
    all.writeLock().lock();
    try {
      clearedAt = sequence.incrementAndGet();
      clear.run();
    } finally {
      all.writeLock().unlock();
    }
  }

  /** Runs {@code put} only when nothing invalidated the key since {@code captured}; says whether it ran. */
  public boolean putIfUnchanged(String key, long captured, Runnable put) {
    int s = stripe(key);
    all.readLock().lock();
    try {
      synchronized (locks[s]) {
        if (stamps[s] > captured || clearedAt > captured || inFlight.contains(key)) return false;
        put.run();
        return true;
      }
    } finally {
      all.readLock().unlock();
    }
  }
}
