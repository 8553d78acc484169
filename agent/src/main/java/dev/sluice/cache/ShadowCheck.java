package dev.sluice.cache;

import dev.sluice.config.JobConfig;
import dev.sluice.ledger.Ledger;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow mode: reads served from the target are also read from the source and compared, after the
 * response has gone (a shadow read never slows the reader). At most {@link #MAX_IN_FLIGHT}
 * comparisons run at once: under a read burst the rest are skipped, so shadow reads can never pile
 * up on the source.
 *
 * <p>A difference may only be a change the applier has not applied yet, so it is re-checked after
 * {@code reads.shadowRecheckMs}, reading both databases afresh: equal then, it counts as lag; still
 * different, it is a mismatch: counted, recorded as an audit event with the key and the differing
 * columns (never the values), and dropped from the cache. Once mismatches since the rollout was last
 * set exceed {@code reads.shadowMaxMismatches}, the rollout pauses (every read goes to the source)
 * and says why in the audit trail, until an operator sets the share again.
 */
public final class ShadowCheck {
  private static final Logger log = LoggerFactory.getLogger(ShadowCheck.class);
  /** Shadow comparisons in flight at most; beyond, a comparison is skipped (and counted), never queued. */
  static final int MAX_IN_FLIGHT = 8;

  private final AtomicInteger inFlight = new AtomicInteger();
  private final Vertx vertx;
  private final String job;
  private final RowLookup lookup;
  private final SegmentCache cache;
  private final Rollout rollout;
  private final ReadStats stats;
  private final Ledger ledger;

  public ShadowCheck(Vertx vertx, String job, RowLookup lookup, SegmentCache cache, Rollout rollout, ReadStats stats, Ledger ledger) {
    this.vertx = vertx;
    this.job = job;
    this.lookup = lookup;
    this.cache = cache;
    this.rollout = rollout;
    this.stats = stats;
    this.ledger = ledger;
  }

  /** Compares served rows with the source, in the background. */
  void compare(List<ReadRouter.Served> served, JobConfig.Reads config) {
    if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
      inFlight.decrementAndGet();
      stats.shadowSkipped(served.size());
      return;
    }
    lookup.source(served.stream().map(ReadRouter.Served::parts).toList()).onComplete(ar -> {
      inFlight.decrementAndGet();
      if (ar.failed()) {
        stats.shadowError();
        log.debug("job {}: shadow read failed: {}", job, ErrorClassifier.describe(ar.cause()));
        return;
      }
      List<ReadRouter.Served> differ = new ArrayList<>();
      for (int i = 0; i < served.size(); i++) {
        stats.shadowCheck();
        if (!Objects.equals(served.get(i).row(), ar.result().get(i))) differ.add(served.get(i));
      }
      if (!differ.isEmpty()) {
        long delay = Math.max(1, config.shadowRecheckDelay().toMillis());
        vertx.timer(delay).onComplete(t -> recheck(differ, config));
      }
    });
  }

  private void recheck(List<ReadRouter.Served> differ, JobConfig.Reads config) {
    List<List<String>> keys = differ.stream().map(ReadRouter.Served::parts).toList();
    Future.all(lookup.target(keys), lookup.source(keys)).onComplete(ar -> {
      if (ar.failed()) {
        stats.shadowError();
        log.debug("job {}: shadow re-check failed: {}", job, ErrorClassifier.describe(ar.cause()));
        return;
      }
      List<RowLookup.TargetRow> targets = ar.result().resultAt(0);
      List<String> sources = ar.result().resultAt(1);
      for (int i = 0; i < differ.size(); i++) {
        String t = targets.get(i).row();
        String s = sources.get(i);
        if (Objects.equals(t, s)) {
          stats.shadowLagged();
        } else {
          mismatch(differ.get(i), t, s, config);
        }
      }
    });
  }

  private void mismatch(ReadRouter.Served served, String targetRow, String sourceRow, JobConfig.Reads config) {
    stats.shadowMismatch();
    int sinceSet = rollout.mismatch();
    if (cache != null) cache.invalidate(served.key());
    String what = targetRow == null ? "the row is missing in the target"
        : sourceRow == null ? "the row is missing in the source" : "columns " + String.join(", ", differingColumns(targetRow, sourceRow)) + " differ";
    String message = "shadow read of key " + served.key() + " (served from " + served.from().header() + "): " + what;
    log.warn("job {}: {}", job, message);
    JsonObject details = new JsonObject().put("key", served.key()).put("cohort", served.cohort()).put("servedFrom", served.from().header())
        .put("columns", targetRow == null || sourceRow == null ? new JsonArray() : new JsonArray(new ArrayList<>(differingColumns(targetRow, sourceRow))));
    ledger.event(job, null, "reads.shadow_mismatch", message, details)
        .onFailure(e -> log.warn("job {}: cannot record a shadow mismatch: {}", job, ErrorClassifier.describe(e)));
    if (sinceSet > config.shadowMaxMismatches()) {
      String reason = sinceSet + " shadow mismatches (more than reads.shadowMaxMismatches = " + config.shadowMaxMismatches()
          + "), the last on key " + served.key();
      if (rollout.pause(reason)) {
        log.error("job {}: read rollout paused, every read now goes to the source: {}", job, reason);
        ledger.event(job, null, "reads.paused", "read rollout paused: " + reason + "; every read goes to the source until "
                + "reads.targetPercent is set again", new JsonObject().put("targetPercent", rollout.targetPercent()).put("key", served.key()))
            .onFailure(e -> log.warn("job {}: cannot record the rollout pause: {}", job, ErrorClassifier.describe(e)));
      }
    }
  }

  static Set<String> differingColumns(String a, String b) {
    JsonObject x = new JsonObject(a);
    JsonObject y = new JsonObject(b);
    Set<String> out = new LinkedHashSet<>();
    for (String f : x.fieldNames()) if (!Objects.equals(x.getValue(f), y.getValue(f))) out.add(f);
    for (String f : y.fieldNames()) if (!x.containsKey(f)) out.add(f);
    return out;
  }
}
