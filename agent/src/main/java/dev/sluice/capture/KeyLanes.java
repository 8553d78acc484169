package dev.sluice.capture;

import dev.sluice.resilience.DatabaseStalled;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * How the applier turns one batch of keys into key syncs: up to {@code lanes} lanes at once, each key
 * always in the same lane (by its hash: the keys of one batch are distinct, so no two lanes ever
 * write the same row, and batches follow one another), and within a lane statements of at most
 * {@link #statementKeys()} keys, one after another.
 *
 * <p>The statement size follows the rows: a sync holds its keys' rows as text (the source's packed
 * arrays, sent on to the target), so it aims at {@value #STATEMENT_CHARS} characters of row text per
 * statement, between {@value #MIN_STATEMENT_KEYS} and {@value #MAX_STATEMENT_KEYS} keys, learned from
 * the previous statement. A large batch of narrow rows then takes few statements (fewer round trips
 * and commits), and a batch of wide rows never holds more than about
 * {@code lanes x STATEMENT_CHARS} characters of rows at once, whatever {@code capture.batchRows} is.
 */
final class KeyLanes {
  /** A lane gets at least this many keys: smaller batches are not worth splitting. */
  static final int MIN_LANE_KEYS = 1_000;
  /** At most this many lanes (each a source read and a target write in flight). */
  static final int MAX_LANES = 4;
  static final int MIN_STATEMENT_KEYS = 100;
  static final int MAX_STATEMENT_KEYS = 2_500;
  /** Row text a statement aims at: 2 Mi characters. */
  static final long STATEMENT_CHARS = 2L << 20;

  private final int lanes;
  private volatile int statementKeys = MIN_LANE_KEYS;

  /** {@code lanes}: the most lanes a batch is split into (at least 1, at most {@value #MAX_LANES}). */
  KeyLanes(int lanes) {
    this.lanes = lanes(lanes);
  }

  /** The lanes of a job whose {@code concurrency.max} is {@code max}. */
  static int lanes(int max) {
    return Math.max(1, Math.min(MAX_LANES, max));
  }

  /** The keys of the next statement at most. */
  int statementKeys() {
    return statementKeys;
  }

  /**
   * Syncs {@code keys} (distinct) with {@code sync}: the lanes at once, each lane's statements one after
   * another. Ends once every lane has ended, failed when one failed: a failed batch is applied again
   * later (its keys recorded), and a lane still writing its older re-read then could land after that.
   * A lane that found its database stalled gives the batch its reason ({@link WatchedPool}: the other
   * lanes then fail with their connections reset, which says less).
   */
  Future<Void> sync(KeySync sync, List<List<String>> keys) {
    List<Future<Void>> all = new ArrayList<>();
    for (List<List<String>> lane : split(keys, lanes)) all.add(syncFrom(sync, lane, 0));
    return Future.join(all).<Void>mapEmpty().recover(e -> {
      for (Future<Void> f : all) if (f.failed() && f.cause() instanceof DatabaseStalled) return Future.failedFuture(f.cause());
      return Future.failedFuture(e);
    });
  }

  private Future<Void> syncFrom(KeySync sync, List<List<String>> lane, int from) {
    if (from >= lane.size()) return Future.succeededFuture();
    int to = Math.min(lane.size(), from + statementKeys);
    return sync.syncSized(lane.subList(from, to)).compose(s -> {
      statementKeys = nextStatementKeys(statementKeys, to - from, s.chars());
      return syncFrom(sync, lane, to);
    });
  }

  /**
   * The batch split into lanes: one lane under {@code 2 x} {@value #MIN_LANE_KEYS} keys, else up to
   * {@code lanes} lanes of at least {@value #MIN_LANE_KEYS} keys, a key's lane chosen by its hash.
   */
  static List<List<List<String>>> split(List<List<String>> keys, int lanes) {
    int n = Math.max(1, Math.min(lanes, keys.size() / MIN_LANE_KEYS));
    if (n == 1) return List.of(keys);
    List<List<List<String>>> parts = new ArrayList<>();
    for (int i = 0; i < n; i++) parts.add(new ArrayList<>());
    for (List<String> k : keys) parts.get(Math.floorMod(mix(k.hashCode()), n)).add(k);
    return parts;
  }

  /**
   * The hash's bits mixed (MurmurHash3's 32-bit finalizer): a list's hash of similar key texts
   * falls mostly into one residue class (keys {@code (i, 'k' || i)} put 91% into one of four lanes).
   */
  static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }

  /**
   * The next statement's size after one of {@code keys} keys that moved {@code chars} characters of
   * rows: {@value #STATEMENT_CHARS} characters at the rows' width, within the bounds; unchanged when
   * the statement moved no row (every key deleted: nothing learned).
   */
  static int nextStatementKeys(int current, int keys, long chars) {
    if (keys <= 0 || chars <= 0) return current;
    double perKey = (double) chars / keys;
    long next = (long) (STATEMENT_CHARS / perKey);
    return (int) Math.max(MIN_STATEMENT_KEYS, Math.min(MAX_STATEMENT_KEYS, next));
  }
}
