package dev.sluice.verify;

import dev.sluice.capture.CaptureSql;
import dev.sluice.capture.ChangeApplier;
import dev.sluice.capture.KeySync;
import dev.sluice.inspect.JobShape;
import dev.sluice.copy.CopyPath;
import dev.sluice.copy.PathChoice;
import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.Segment;
import dev.sluice.ledger.SegmentState;
import dev.sluice.pace.Pacer;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The final verification pass, run once the job is in sync: segment by segment, paced, the target's
 * fingerprint is compared with a fresh fingerprint of the source range. Never with the one its copy
 * recorded, even when no captured change reached the segment: changes that fire no row trigger
 * (TRUNCATE, a table rewrite with {@code USING}, writes with triggers disabled or
 * {@code session_replication_role = replica}) leave no trace but in the source itself. So the pass
 * reads the whole source once more (paced by the job's budget), and the target once.
 *
 * <p>Without change capture (a plain copy, whose writes made meanwhile are not carried over) the pass
 * compares each segment's target range with the fingerprint it was verified with, and parks a
 * segment that no longer has it (a TRUNCATE, DELETE or rewrite of the target since): the target is
 * read once, the source not at all.
 *
 * <p>The pass notes both tables' files ({@link RewriteWatch}) when it begins; {@link #rewrittenSincePass}
 * tells whether either table was rewritten since, so the job completes only after a pass that no
 * rewrite overlapped.
 *
 * <p>A difference is bisected down to its keys. Keys with a change still waiting in the changelog are
 * in flight, not wrong. The rest are mismatches: repaired by re-reading and applying them as the
 * applier would, then checked again; what still differs parks the segment failed with its keys.
 * Custom checks and sampled reconciliation run on each segment too. The report (rows, segments,
 * mismatches found and repaired, checks, duration) goes to the ledger with an audit event.
 */
public final class FinalVerification {
  private static final Logger log = LoggerFactory.getLogger(FinalVerification.class);
  private static final int MAX_KEYS = 100;

  private final JobShape shape;
  private final String job;
  private final Pool source;
  private final Pool target;
  private final ConsistencyLedger ledger;
  private final Verifier verifier;
  private final Bisector bisector;
  private final ChangeApplier applier;
  private final KeySync sync;
  private final CaptureSql capture;
  private final CustomChecks checks;
  private final Reconciler reconciler;
  private final Pacer pacer;
  private final Function<String, Future<Void>> pauseForDrift;
  private final RewriteWatch watch;
  private final boolean captured;
  private final CopyPath path;
  private volatile RewriteWatch.Files passFiles;
  private volatile java.util.function.Supplier<Future<Void>> changelogBarrier = Future::succeededFuture;

  public FinalVerification(JobShape shape, Pool source, Pool target, ConsistencyLedger ledger, ChangeApplier applier, Pacer pacer,
      Function<String, Future<Void>> pauseForDrift) {
    this(shape, source, target, ledger, applier, pacer, pauseForDrift, null);
  }

  /**
   * {@code path}: the job's copy path, whose read-back ({@link CopyPath#target}) hashes a range as the
   * fingerprints its segments were verified with (a plain copy's pass compares with those); null: the
   * SQL row hash.
   */
  public FinalVerification(JobShape shape, Pool source, Pool target, ConsistencyLedger ledger, ChangeApplier applier, Pacer pacer,
      Function<String, Future<Void>> pauseForDrift, CopyPath path) {
    this.path = path;
    this.shape = shape;
    this.job = shape.job().name();
    this.source = source;
    this.target = target;
    this.ledger = ledger;
    this.verifier = new Verifier(new dev.sluice.copy.SegmentSql(shape));
    this.bisector = new Bisector(shape, verifier);
    this.applier = applier;
    this.sync = applier.keySync();
    this.capture = new CaptureSql(shape);
    this.checks = new CustomChecks(shape.job().verify().checks(), shape.sourceKey().size());
    this.reconciler = new Reconciler(shape);
    this.pacer = pacer;
    this.pauseForDrift = pauseForDrift;
    this.watch = new RewriteWatch(shape, source, target);
    this.captured = shape.job().capture().enabled();
  }

  /** Each table rewritten since the last pass began (see {@link RewriteWatch}); empty when none, or before any pass. */
  public Future<List<String>> rewrittenSincePass() {
    RewriteWatch.Files before = passFiles;
    if (before == null) return Future.succeededFuture(List.of());
    return watch.now().map(now -> watch.changes(before, now));
  }

  /** The pass's outcome. */
  public record Report(long rows, int segments, int freshSource, int mismatches, int repaired, int unrepaired, int overLimit,
      int checksFailed, long sampled, int sampleDifferences, long durationMs, List<String> keys) {
    public JsonObject json() {
      return new JsonObject().put("rows", rows).put("segments", segments).put("segmentsWithFreshSource", freshSource)
          .put("mismatches", mismatches).put("repaired", repaired).put("unrepaired", unrepaired)
          .put("segmentsOverRepairLimit", overLimit).put("checksFailed", checksFailed)
          .put("sampledRows", sampled).put("sampleDifferences", sampleDifferences).put("durationMs", durationMs)
          .put("keys", new JsonArray(new ArrayList<>(keys)));
    }
  }

  private static final class Tally {
    long rows;
    int segments;
    int fresh;
    int mismatches;
    int repaired;
    int unrepaired;
    /** Segments where more rows differed than one repair takes. */
    int overLimit;
    int checksFailed;
    long sampled;
    int sampleDifferences;
    final List<String> keys = new ArrayList<>();
  }

  public Future<Report> run() {
    long t0 = System.nanoTime();
    Tally tally = new Tally();
    log.info("job {}: final verification pass started", job);
    return watch.now().compose(files -> {
      passFiles = files;
      return ledger.segments(job);
    }).compose(segs -> ledger.copyFacts(job).compose(facts -> {
      Future<Void> chain = Future.succeededFuture();
      for (Segment s : segs) {
        if (s.state() != SegmentState.VERIFIED) continue;
        chain = chain.compose(v -> pacer.acquire(Math.max(1, s.rowsCopied())).compose(x -> segment(s, facts.get(s.seq()), tally)));
      }
      return chain;
    })).compose(v -> {
      Report r = new Report(tally.rows, tally.segments, tally.fresh, tally.mismatches, tally.repaired, tally.unrepaired,
          tally.overLimit, tally.checksFailed, tally.sampled, tally.sampleDifferences, (System.nanoTime() - t0) / 1_000_000, tally.keys);
      String msg = "final verification: " + r.rows() + " rows in " + r.segments() + " segments, " + r.mismatches()
          + " mismatched rows found, " + r.repaired() + " repaired, " + r.unrepaired() + " not repaired"
          + (tally.overLimit == 0 ? "" : " (at least: in " + tally.overLimit + " segment(s) more rows differed than the pass repairs "
              + "in one, " + MAX_KEYS + "; they are parked failed, `sluice retry` copies them again)")
          + ", " + r.checksFailed() + " custom check differences, in " + r.durationMs() + " ms";
      log.info("job {}: {}", job, msg);
      return ledger.verifyReport(job, r.json(), msg).map(r);
    });
  }

  private Future<Void> segment(Segment s, ConsistencyLedger.CopyFacts f, Tally tally) {
    if (!captured) return recorded(s, f, tally);
    // Both sides at once: each is a scan of the range on its own database and pool. Which snapshot is
    // the later one does not matter: a difference is only a hint, settled by fresh reads of both sides
    // and of the changelog (mismatch).
    Future<Verifier.Fingerprint> tgt = verifier.target(target, s.range());
    Future<Verifier.Fingerprint> src = verifier.source(source, s.range());
    return Future.all(tgt, src).compose(both -> {
      tally.fresh++;
      tally.segments++;
      tally.rows += tgt.result().rows();
      return src.result().equals(tgt.result()) ? Future.succeededFuture() : mismatch(s, tally);
    }).compose(v -> checks(s, tally)).compose(v -> sample(s, tally));
  }

  /** A plain copy's segment: the target range must still have the fingerprint it was verified with. */
  private Future<Void> recorded(Segment s, ConsistencyLedger.CopyFacts f, Tally tally) {
    Verifier.Fingerprint verified = f == null || f.sourceHash() == null ? null : new Verifier.Fingerprint(f.sourceRows(), f.sourceHash());
    return recordedTarget(s, verified).compose(tfp -> {
      tally.segments++;
      tally.rows += tfp.rows();
      if (verified == null || verified.equals(tfp)) return Future.succeededFuture();
      // Rows cannot be told apart without the source; the difference in count (at least one) stands for them.
      int rows = (int) Math.min(Integer.MAX_VALUE, Math.max(1, Math.abs(f.sourceRows() - tfp.rows())));
      tally.mismatches += rows;
      tally.unrepaired += rows;
      String why = "the target range changed after it was verified (verified with " + f.sourceRows() + " rows, now "
          + tfp.describe() + "): a TRUNCATE, DELETE or rewrite of the target? `sluice retry` copies it again";
      log.warn("job {} segment {}: {}", job, s.seq(), why);
      return ledger.failVerified(job, s.seq(), why, null);
    });
  }

  /**
   * What must complete before the changelog is read for keys in flight: nothing with the trigger
   * (a change has its entry when it commits); with logical capture, the slot read up to now.
   */
  public void changelogBarrier(java.util.function.Supplier<Future<Void>> barrier) {
    this.changelogBarrier = barrier;
  }

  /**
   * The target range hashed as its segment was verified: the COPY path's read-back (XXH3 of the COPY
   * text) first, then, when that differs, the SQL row hash (a segment verified by a row path before a
   * restart changed the job's path).
   */
  private Future<Verifier.Fingerprint> recordedTarget(Segment s, Verifier.Fingerprint verified) {
    if (path == null || path.choice().kind() != PathChoice.Kind.COPY) return verifier.target(target, s.range());
    return path.target(s.range()).map(sum -> new Verifier.Fingerprint(sum.rows(), sum.hash()))
        .compose(fp -> fp.equals(verified) ? Future.succeededFuture(fp) : verifier.target(target, s.range()));
  }

  private Future<Set<List<String>>> pending(Segment s) {
    var p = capture.pendingInRange(s.range());
    return changelogBarrier.get().compose(b -> source.preparedQuery(p.sql()).execute(Tuple.tuple(p.params()))).map(rows -> {
      Set<List<String>> out = new HashSet<>();
      for (Row r : rows) out.add(Arrays.asList(r.getArrayOfStrings(0)));
      return out;
    }).otherwise(e -> new HashSet<>()); // no changelog: capture off or removed
  }

  /**
   * The segment's fingerprints differ. Keys are compared first and the changelog read after: a key
   * that differed because of a change not yet applied still has its entry then (the applier deletes
   * an entry only after writing its key), so it is in flight, not wrong. A key left is wrong, or was
   * applied between the two reads: that is settled with the applier held.
   */
  private Future<Void> mismatch(Segment s, Tally tally) {
    return differingNotPending(s).compose(keys -> keys.isEmpty() ? Future.succeededFuture() : applier.whileHeld(() -> repair(s, tally)));
  }

  /** With the applier held: nothing is applied between a comparison and its changelog read, nor between a repair's read and its write. */
  private Future<Void> repair(Segment s, Tally tally) {
    return differingNotPending(s).compose(wrong -> {
      if (wrong.isEmpty()) return Future.succeededFuture();
      tally.mismatches += wrong.size();
      List<String> shown = wrong.stream().limit(20).map(Bisector::describe).toList();
      log.warn("job {} segment {}: {} rows differ from the source ({}); repairing", job, s.seq(), wrong.size(), String.join(", ", shown));
      return sync.sync(wrong)
          .compose(x -> differingNotPending(s))
          .compose(still -> {
            int fixed = (int) wrong.stream().filter(k -> !still.contains(k)).count();
            // Keys found now that were not among those repaired: more differed than one repair takes (MAX_KEYS).
            int beyond = (int) still.stream().filter(k -> !wrong.contains(k)).count();
            tally.mismatches += beyond;
            tally.repaired += fixed;
            tally.unrepaired += still.size();
            if (beyond > 0) tally.overLimit++;
            for (List<String> k : wrong) if (tally.keys.size() < MAX_KEYS) tally.keys.add(Bisector.describe(k));
            JsonObject details = new JsonObject().put("keys", new JsonArray(new ArrayList<>(shown))).put("repaired", fixed)
                .put("unrepaired", still.size());
            String msg = "segment " + s.seq() + ": " + wrong.size() + " rows differed from the source (keys " + String.join(", ", shown)
                + "); " + fixed + " repaired";
            Future<Void> ev = ledger.event(job, s.seq(), "verify.mismatch", msg, details);
            if (still.isEmpty()) return ev;
            String stillKeys = String.join(", ", still.stream().limit(20).map(Bisector::describe).toList());
            String reason = beyond == 0 ? still.size() + " rows still differ after repair"
                : "more rows differ from the source than the final pass repairs in a segment (" + MAX_KEYS + "): " + fixed
                + " repaired, at least " + still.size() + " more differ; `sluice retry` copies the segment again";
            return ev.compose(v -> ledger.failVerified(job, s.seq(), reason, stillKeys));
          });
    });
  }

  /** The keys that differ between source and target, less those with a change waiting (the changelog read after the comparison). */
  private Future<List<List<String>>> differingNotPending(Segment s) {
    return bisector.differingKeys(source, target, s.range(), MAX_KEYS).compose(keys -> keys.isEmpty() ? Future.succeededFuture(keys)
        : pending(s).map(p -> keys.stream().filter(k -> !p.contains(k)).toList()));
  }

  private Future<Void> checks(Segment s, Tally tally) {
    if (shape.job().verify().checks().isEmpty()) return Future.succeededFuture();
    return checks.run(source, target, s).compose(diffs -> {
      Future<Void> chain = Future.succeededFuture();
      for (CustomChecks.Difference d : diffs) {
        tally.checksFailed++;
        chain = chain.compose(v -> ledger.event(job, s.seq(), "verify.check_failed", d.describe(),
            new JsonObject().put("check", d.check()).put("source", d.source()).put("target", d.target())));
      }
      return chain;
    });
  }

  private Future<Void> sample(Segment s, Tally tally) {
    if (!reconciler.enabled()) return Future.succeededFuture();
    return reconciler.sample(source, target, s).compose(sample -> {
      tally.sampled += sample.rows();
      tally.sampleDifferences += sample.differences().size();
      Future<Void> chain = Future.succeededFuture();
      for (Reconciler.Difference d : sample.differences().stream().limit(MAX_KEYS).toList()) {
        chain = chain.compose(v -> ledger.event(job, s.seq(), "verify.sample_difference", "segment " + s.seq() + ": key "
            + Bisector.describe(d.key()) + " column " + d.column() + " differs: source " + d.source() + ", target " + d.target(), d.json()));
      }
      if (!sample.nullDrift().isEmpty()) {
        String why = "data drift: " + String.join("; ", sample.nullDrift());
        chain = chain.compose(v -> pauseForDrift.apply(why));
      }
      return chain;
    });
  }
}
