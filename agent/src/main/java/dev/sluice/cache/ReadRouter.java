package dev.sluice.cache;

import dev.sluice.config.JobConfig;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * Decides where each read of a job is served from (the phased rollout) and serves it.
 *
 * <p>A key goes to the target when its cohort ({@link Cohort}) is below the rollout's effective share
 * and its segment is verified; otherwise to the source. On the target side the cache answers first;
 * a hit implies a verified segment (only verified rows enter it). A miss reads the target row together
 * with the verified check, in one query, and puts the row with the generation captured before that
 * query ({@link Generations}). A key whose segment is not verified falls through to the source, read
 * through the job's projection. A share of target-served reads is compared with the source
 * ({@link ShadowCheck}). A batch costs at most one query per database. When the target cannot be
 * read, its keys are served from the source (counted as target errors).
 */
public final class ReadRouter {
  /** Where a row came from; the value of the {@code X-Sluice-Served-From} header. */
  public enum From {
    CACHE, TARGET, SOURCE;

    public String header() {
      return name().toLowerCase();
    }
  }

  /** One answered key: canonical parts and text, cohort, where from, and the row JSON (null: no such row). */
  public record Served(List<String> parts, String key, int cohort, From from, String row) {}

  /** A key the database cannot read as the key's type; its message says why. */
  public static final class BadKey extends RuntimeException {
    public BadKey(String message) {
      super(message);
    }
  }

  private final String job;
  private final KeyCodec codec;
  private final RowLookup lookup;
  private final SegmentCache cache;
  private final Rollout rollout;
  private final ReadStats stats;
  private final ShadowCheck shadow;
  private final DoubleSupplier random;
  private volatile JobConfig.Reads config;

  public ReadRouter(String job, JobConfig.Reads config, KeyCodec codec, RowLookup lookup, SegmentCache cache, Rollout rollout,
      ReadStats stats, ShadowCheck shadow, DoubleSupplier random) {
    this.job = job;
    this.config = config;
    this.codec = codec;
    this.lookup = lookup;
    this.cache = cache;
    this.rollout = rollout;
    this.stats = stats;
    this.shadow = shadow;
    this.random = random;
  }

  public String job() {
    return job;
  }

  public KeyCodec codec() {
    return codec;
  }

  public Rollout rollout() {
    return rollout;
  }

  public ReadStats stats() {
    return stats;
  }

  /** The job's cache, or null when caching is off. */
  public SegmentCache cache() {
    return cache;
  }

  public JobConfig.Reads config() {
    return config;
  }

  /**
   * Applies a reloaded {@code reads} section: shadow settings and batch size at once; a changed
   * {@code targetPercent} becomes the rollout's share (and ends a shadow pause).
   */
  public void applyConfig(JobConfig.Reads next) {
    JobConfig.Reads prev = config;
    config = next;
    if (next.targetPercent() != prev.targetPercent()) rollout.setTargetPercent(next.targetPercent());
  }

  /** Serves keys (each as its raw parts), in order. Fails with {@link BadKey} for a malformed key. */
  public Future<List<Served>> read(List<List<String>> rawKeys) {
    return canonical(rawKeys).compose(this::serve);
  }

  private Future<List<List<String>>> canonical(List<List<String>> raw) {
    List<List<String>> out = new ArrayList<>(raw.size());
    List<Integer> pending = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      List<String> c = codec.canonicalHere(raw.get(i));
      out.add(c);
      if (c == null) pending.add(i);
    }
    if (pending.isEmpty()) return Future.succeededFuture(out);
    return lookup.canonical(pick(raw, pending))
        .recover(e -> Future.failedFuture(e instanceof PgException pg && pg.getSqlState() != null && pg.getSqlState().startsWith("22")
            ? new BadKey("a key is not a valid " + String.join(", ", codec.lookupTypes()) + ": " + pg.getErrorMessage())
            : e))
        .map(parts -> {
          for (int j = 0; j < pending.size(); j++) out.set(pending.get(j), parts.get(j));
          return out;
        });
  }

  private Future<List<Served>> serve(List<List<String>> keys) {
    SegmentCache cache = this.cache != null && this.cache.live() ? this.cache : null;
    int n = keys.size();
    Served[] out = new Served[n];
    String[] texts = new String[n];
    int[] cohorts = new int[n];
    List<Integer> toTarget = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      texts[i] = KeyCodec.text(keys.get(i));
      cohorts[i] = Cohort.of(texts[i]);
      if (!rollout.toTarget(cohorts[i])) continue;
      String hit = cache == null ? null : cache.get(texts[i]);
      if (hit != null) {
        out[i] = new Served(keys.get(i), texts[i], cohorts[i], From.CACHE, hit);
      } else {
        toTarget.add(i);
      }
    }
    // Captured before the target read: a key invalidated while the read is in flight is not put.
    long generation = cache == null ? 0 : cache.capture();
    long t0 = System.nanoTime();
    Future<Void> targetRead = toTarget.isEmpty() ? Future.succeededFuture() : lookup.target(pick(keys, toTarget)).onComplete(ar -> {
      if (cache != null) cache.recordLoad(System.nanoTime() - t0, ar.succeeded());
    }).<Void>map(rows -> {
      for (int j = 0; j < rows.size(); j++) {
        int i = toTarget.get(j);
        RowLookup.TargetRow r = rows.get(j);
        if (!r.verified()) continue;
        out[i] = new Served(keys.get(i), texts[i], cohorts[i], From.TARGET, r.row());
        if (cache != null && r.row() != null) cache.putIfUnchanged(texts[i], r.row(), generation);
      }
      return null;
    }).recover(e -> {
      // The source is still the truth during a rollout: a target that cannot answer sends its keys there.
      stats.targetError();
      return Future.<Void>succeededFuture();
    });
    return targetRead.compose(v -> {
      List<Integer> toSource = new ArrayList<>();
      for (int i = 0; i < n; i++) if (out[i] == null) toSource.add(i);
      if (toSource.isEmpty()) return Future.succeededFuture();
      return lookup.source(pick(keys, toSource)).map(rows -> {
        for (int j = 0; j < rows.size(); j++) {
          int i = toSource.get(j);
          out[i] = new Served(keys.get(i), texts[i], cohorts[i], From.SOURCE, rows.get(j));
        }
        return null;
      });
    }).map(v -> {
      List<Served> served = List.of(out);
      List<Served> compare = new ArrayList<>();
      double share = config.shadowPercent();
      for (Served s : served) {
        stats.served(s.from(), s.row() != null);
        if (s.from() != From.SOURCE && share > 0 && random.getAsDouble() * 100 < share) compare.add(s);
      }
      if (!compare.isEmpty()) shadow.compare(compare, config);
      return served;
    });
  }

  private static <T> List<T> pick(List<T> all, List<Integer> idx) {
    List<T> out = new ArrayList<>(idx.size());
    for (int i : idx) out.add(all.get(i));
    return out;
  }
}
