package dev.sluice.capture;

import dev.sluice.ledger.ConsistencyLedger;
import dev.sluice.ledger.Segment;
import dev.sluice.plan.SegmentChain;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The changelog as the applier reads it: entries in id order, each placed in its segment by the
 * source ({@code width_bucket} over the segments' lower bounds, see {@link CaptureSql#readBatch}).
 * Holds the job's segments in key order (seq order is not key order once segments are cut in flight
 * or re-planned); {@link #load} reads them again when the ledger's set of segments changed.
 */
final class PlacedChangelog {
  /** One entry, and the seq of the segment its key falls in. */
  record Entry(long id, List<String> key, int seq) {}

  private final String job;
  private final int keyColumns;
  private final WatchedPool source;
  private final WatchedPool target;
  private final ConsistencyLedger ledger;
  private final CaptureSql sql;
  private List<Segment> segments = List.of();
  private String[][] lowerBounds = new String[0][0];

  /** {@code ledger}: on {@code target}, the pool its statements are timed on. */
  PlacedChangelog(String job, int keyColumns, WatchedPool source, WatchedPool target, ConsistencyLedger ledger, CaptureSql sql) {
    this.job = job;
    this.keyColumns = keyColumns;
    this.source = source;
    this.target = target;
    this.ledger = ledger;
    this.sql = sql;
  }

  /** Reads the job's segments and the lower bounds that map a key to its segment. */
  Future<Void> load() {
    return target.timed("reading the job's segments", () -> ledger.segments(job)).map(all -> {
      List<Segment> segs = SegmentChain.keyOrder(all, Segment::range);
      String[][] bounds = new String[keyColumns][Math.max(0, segs.size() - 1)];
      for (int i = 1; i < segs.size(); i++) {
        List<String> lo = segs.get(i).range().lower();
        for (int c = 0; c < keyColumns; c++) bounds[c][i - 1] = lo.get(c);
      }
      segments = segs;
      lowerBounds = bounds;
      return null;
    });
  }

  /** True when the ledger's segments (by seq) are the ones the entries are placed among. */
  boolean placesAmong(Set<Integer> seqs) {
    Set<Integer> mine = new HashSet<>();
    for (Segment s : segments) mine.add(s.seq());
    return mine.equals(seqs);
  }

  /** Keys that are not in the changelog, each placed in its segment (id 0). */
  Future<List<Entry>> place(List<List<String>> keys) {
    Tuple t = Tuple.of(literals(keys));
    for (String[] col : lowerBounds) t.addArrayOfString(col);
    List<Segment> segs = segments;
    return source.timed("placing keys in their segments", () -> source.pool().preparedQuery(sql.placeKeys()).execute(t))
        .map(rows -> entries(rows, segs));
  }

  /** Records keys (with their change's time, PostgreSQL microseconds) in the changelog, to be applied later. */
  Future<Void> record(List<List<String>> keys, List<Long> pgMicros) {
    Tuple t = entries(keys, pgMicros);
    return source.timed("recording keys in the changelog", () -> source.pool().preparedQuery(sql.insertEntries()).execute(t)).mapEmpty();
  }

  /**
   * The two parameters of {@link CaptureSql#insertEntries}: the keys' literals and their times, each
   * one text[] (built one by one: {@code Tuple.of(a, b)} with {@code b} a {@code String[]} spreads
   * {@code b} into parameters of their own, its varargs).
   */
  static Tuple entries(List<List<String>> keys, List<Long> pgMicros) {
    String[] times = new String[keys.size()];
    for (int i = 0; i < times.length; i++) times[i] = PgOutput.instant(pgMicros.get(i)).toString();
    return Tuple.tuple().addArrayOfString(literals(keys)).addArrayOfString(times);
  }

  /** Each key as a text[] literal, as the changelog's key column holds it. */
  private static String[] literals(List<List<String>> keys) {
    String[] out = new String[keys.size()];
    for (int i = 0; i < out.length; i++) out[i] = ChangelogWriter.arrayLiteral(keys.get(i));
    return out;
  }

  /** Up to {@code limit} entries after id {@code after}, each with its segment's seq. */
  Future<List<Entry>> read(long after, int limit) {
    Tuple t = Tuple.of(after, limit);
    for (String[] col : lowerBounds) t.addArrayOfString(col);
    List<Segment> segs = segments;
    return source.timed("reading the changelog", () -> source.pool().preparedQuery(sql.readBatch()).execute(t)).map(rows -> entries(rows, segs));
  }

  private static List<Entry> entries(Iterable<Row> rows, List<Segment> segs) {
    List<Entry> entries = new ArrayList<>();
    for (Row r : rows) {
      int position = Math.min(r.getInteger(2), segs.size() - 1);
      entries.add(new Entry(r.getLong(0), Arrays.asList(r.getArrayOfStrings(1)), segs.get(position).seq()));
    }
    return entries;
  }
}
