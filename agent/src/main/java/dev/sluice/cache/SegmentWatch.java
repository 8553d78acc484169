package dev.sluice.cache;

import dev.sluice.ledger.ReadPathLedger;
import dev.sluice.plan.KeyRange;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a job's verified segments in the ledger, whichever agent verified them: a newly verified
 * segment is handed to the warmer; a segment that left verified (a re-copy, a retry, a rollback)
 * clears the job's cache, because a hit must imply a verified segment, and the rest is warmed again.
 *
 * <p>Each poll (every second, and at once when this agent verifies a segment) reads a fingerprint of
 * the verified set (count and a sum of seq hashes) and fetches the set only when it changed.
 */
public final class SegmentWatch {
  private static final Logger log = LoggerFactory.getLogger(SegmentWatch.class);
  static final long POLL_MS = 1000;

  private final Vertx vertx;
  private final Pool ledger;
  private final String job;
  private final SegmentCache cache;
  private final CacheWarmer warmer;
  private volatile Map<Integer, KeyRange> verified;
  private String fingerprint;
  private boolean polling;
  private boolean again;
  private long timer = -1;
  private volatile boolean stopped;
  private volatile boolean started;

  public SegmentWatch(Vertx vertx, Pool ledger, String job, SegmentCache cache, CacheWarmer warmer) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.job = job;
    this.cache = cache;
    this.warmer = warmer;
  }

  public void start() {
    started = true;
    vertx.runOnContext(v -> poll());
    timer = vertx.setPeriodic(POLL_MS, t -> poll());
  }

  public void stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  /** A segment was verified here: look now rather than at the next tick (once started: without a reader, never). */
  public void poke() {
    if (!started) return;
    vertx.runOnContext(v -> poll());
  }

  private synchronized boolean begin() {
    if (polling) {
      again = true;
      return false;
    }
    polling = true;
    again = false;
    return true;
  }

  private synchronized boolean end() {
    polling = false;
    return again;
  }

  private void poll() {
    if (stopped || !begin()) return;
    ReadPathLedger.verifiedFingerprint(ledger, job)
        .compose(fp -> {
          if (fp.equals(fingerprint)) return io.vertx.core.Future.succeededFuture();
          return ReadPathLedger.verifiedRanges(ledger, job)
              .map(now -> {
                apply(now);
                fingerprint = fp;
                return null;
              });
        })
        .onComplete(ar -> {
          if (ar.failed() && !stopped) log.debug("job {}: cannot read verified segments: {}", job, ErrorClassifier.describe(ar.cause()));
          if (end()) poll();
        });
  }

  private void apply(Map<Integer, KeyRange> now) {
    Map<Integer, KeyRange> before = verified == null ? new HashMap<>() : verified;
    verified = now;
    boolean left = before.keySet().stream().anyMatch(seq -> !now.containsKey(seq));
    if (left) {
      log.info("job {}: a segment left verified; clearing the read cache", job);
      if (cache != null) cache.clear();
      if (warmer != null) warmer.reset(now);
      return;
    }
    if (warmer == null) return;
    now.forEach((seq, range) -> {
      if (!before.containsKey(seq)) warmer.enqueue(seq, range);
    });
  }

  /** Hands every verified segment to the warmer again (warming was just turned on). */
  public void rewarm() {
    vertx.runOnContext(v -> {
      Map<Integer, KeyRange> now = verified;
      if (now != null && warmer != null) warmer.reset(now);
    });
  }

  /** True when the segment was verified at the last poll (the warmer stops warming one that left). */
  public boolean verified(int seq) {
    Map<Integer, KeyRange> v = verified;
    return v != null && v.containsKey(seq);
  }
}
