package dev.sluice.capture;

import dev.sluice.config.Sql;
import dev.sluice.copy.ColumnKind;
import dev.sluice.inspect.JobShape;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Makes a set of keys in the target equal to their current rows in the source: re-reads them in one
 * statement (one snapshot; with the job's row filter and column mapping), writes the rows found and
 * deletes the keys not found (gone, or no longer matching {@code where}) on the target: with one
 * {@code MERGE} and one {@code DELETE} in a transaction on PostgreSQL 15+ ({@link KeyMerge}), else in
 * one upsert statement. Rows travel packed, one array text per column, as the copy's pages do. Used by the change
 * applier and by verification's repairs.
 *
 * <p>Fence: the target's writes run only while the job's ledger row is in a writing state,
 * holding {@code FOR SHARE} on it; a rollback (which updates that row) waits for an in-flight write,
 * and nothing is written after it. The applier's writes also carry its epoch ({@link #fenceEpoch}):
 * once another agent's applier counted it up, they write nothing ({@link ApplierSuperseded}).
 */
public final class KeySync {
  /** The writing states of a job. */
  static final String WRITING = "('copying', 'catching_up', 'in_sync', 'failed')";

  /**
   * The job's ledger row while it is in a writing state and, when parameter {@code $epoch} is not
   * null, while the applier's epoch there is still that one (no other agent's applier took over
   * since), locked FOR SHARE. Params: $1 job, {@code $epoch} the writer's applier epoch or null.
   */
  static String fenceRow(int epoch) {
    return "SELECT 1 FROM sluice.jobs WHERE name = $1 AND state IN " + WRITING
        + " AND ($" + epoch + "::bigint IS NULL OR applier_epoch = $" + epoch + "::bigint) FOR SHARE";
  }

  private final JobShape shape;
  private final WatchedPool source;
  private final WatchedPool target;
  private final String read;
  private final String write;
  private final KeyMerge merge;
  /** Whether the target takes MERGE (PostgreSQL 15+): asked once, again after a failed ask. */
  private volatile Future<Boolean> merges;

  public KeySync(JobShape shape, Pool source, Pool target) {
    this(shape, source, target, true);
  }

  /** {@code mergeAllowed} false: always the upsert (the path for targets before PostgreSQL 15). */
  KeySync(JobShape shape, Pool source, Pool target, boolean mergeAllowed) {
    this(shape, WatchedPool.unwatched(source), WatchedPool.unwatched(target), mergeAllowed);
  }

  /** The applier's: every statement timed on its pools ({@link WatchedPool}). */
  KeySync(JobShape shape, WatchedPool source, WatchedPool target) {
    this(shape, source, target, true);
  }

  private KeySync(JobShape shape, WatchedPool source, WatchedPool target, boolean mergeAllowed) {
    this.shape = shape;
    this.source = source;
    this.target = target;
    this.read = readSql();
    this.write = writeSql();
    this.merge = new KeyMerge(shape);
    if (!mergeAllowed) merges = Future.succeededFuture(false);
  }

  /** What a sync did. */
  public record Result(int upserted, int deleted) {}

  /** What a sync did, and the length (in characters) of the row texts it moved: the statement's size. */
  public record Sized(Result result, long chars) {}

  /** Thrown when the job's ledger row no longer allows writes (rolled back or being rolled back). */
  public static final class JobFenced extends RuntimeException {
    public JobFenced(String job) {
      super("job " + job + " no longer writes to the target (rolling back or rolled back)", null, false, false);
    }
  }

  /**
   * Thrown when another agent's applier took the job over (a newer applier epoch in the ledger): this
   * write wrote nothing. The other agent re-reads the same keys after its takeover, so nothing is lost.
   */
  public static final class ApplierSuperseded extends RuntimeException {
    public ApplierSuperseded(String job, long mine, long now) {
      super("job " + job + ": another agent's applier took over (applier epoch " + now + ", this one's " + mine
          + "); this agent stops applying and tries again for the applier lock", null, false, false);
    }
  }

  /** The applier epoch its writes carry (null: none, as verification's repairs and tools write). */
  private volatile Long epoch;

  /** Fences this sync's writes with the applier epoch {@code e} (null: no epoch). */
  void fenceEpoch(Long e) {
    this.epoch = e;
  }

  Long fenceEpoch() {
    return epoch;
  }

  /**
   * Keys are source key values as text, one list per key. Whatever the number of keys: one read of
   * the source that returns ONE row (per column the found rows' values packed into one array text,
   * as the copy's pages are; per key column the keys not found), and one fenced write on the target
   * that writes the packed rows and deletes the keys not found. The agent decodes no value.
   */
  public Future<Result> sync(List<List<String>> keys) {
    return syncSized(keys).map(Sized::result);
  }

  /** {@link #sync}, also telling the size of the row texts moved (to bound the next statement's). */
  public Future<Sized> syncSized(List<List<String>> keys) {
    if (keys.isEmpty()) return Future.succeededFuture(new Sized(new Result(0, 0), 0));
    Tuple t = Tuple.tuple();
    for (int k = 0; k < shape.sourceKey().size(); k++) {
      String[] col = new String[keys.size()];
      for (int i = 0; i < keys.size(); i++) col[i] = keys.get(i).get(k);
      t.addArrayOfString(col);
    }
    return source.timed("re-reading changed keys", () -> source.pool().preparedQuery(read).execute(t)).compose(rows -> {
      Row r = rows.iterator().next();
      int width = shape.columns().size();
      int keyCols = shape.sourceKey().size();
      List<String> packed = new ArrayList<>();
      List<String> gone = new ArrayList<>();
      for (int c = 0; c < width; c++) packed.add(r.getString(1 + c));
      for (int c = 0; c < keyCols; c++) gone.add(r.getString(1 + width + c));
      long chars = 0;
      for (String p : packed) chars += p == null ? 0 : p.length();
      long size = chars;
      if (packed.get(0) == null && gone.get(0) == null) return Future.succeededFuture(new Sized(new Result(0, 0), 0));
      Long e = epoch;
      return merges().compose(m -> m ? target.timed("writing changed keys", () -> merge.write(target.pool(), packed, gone, e))
              .recover(x -> mergeFailed(x, packed, gone, e)) : upsert(packed, gone, e))
          .recover(x -> x instanceof JobFenced && e != null ? superseded(e, x) : Future.failedFuture(x))
          .map(res -> new Sized(res, size));
    });
  }

  /**
   * The fenced upsert and delete in one statement (any target version), in a transaction of its own: a
   * write whose answer never came (a stall, {@link WatchedPool}) can then commit only if its rows were
   * written, and locked, before the applier gave up on it, so the retry's write of the same keys lands after it.
   */
  private Future<Result> upsert(List<String> packed, List<String> gone, Long epoch) {
    Tuple w = Tuple.of(shape.job().name());
    for (String p : packed) w.addString(p);
    for (String g : gone) w.addString(g);
    w.addLong(epoch);
    return target.timed("writing changed keys", () -> target.pool().withTransaction(c -> c.preparedQuery(write).execute(w))).compose(x -> {
      Row o = x.iterator().next();
      if (o.getLong(0) == 0) return Future.failedFuture(new JobFenced(shape.job().name()));
      return Future.succeededFuture(new Result(o.getLong(1).intValue(), o.getLong(2).intValue()));
    });
  }

  /**
   * A MERGE (rolled back) that met a concurrent writer of one of its keys, a key inserted since its
   * lookup (unique_violation) or a serialization failure: the upsert arbitrates those, it writes
   * instead. Anything else fails the sync.
   */
  private Future<Result> mergeFailed(Throwable e, List<String> packed, List<String> gone, Long epoch) {
    String state = e instanceof io.vertx.pgclient.PgException pg ? pg.getSqlState() : "";
    return "23505".equals(state) || "40001".equals(state) ? upsert(packed, gone, epoch) : Future.failedFuture(e);
  }

  /**
   * A write with applier epoch {@code mine} was fenced: another agent's applier took over when the
   * ledger's epoch moved on while the job still writes ({@link ApplierSuperseded}), else it is the
   * job's state ({@code fenced} as it is).
   */
  private <T> Future<T> superseded(long mine, Throwable fenced) {
    return target.timed("reading the applier epoch", () -> target.pool()
            .preparedQuery("SELECT applier_epoch, state IN " + WRITING + " FROM sluice.jobs WHERE name = $1").execute(Tuple.of(shape.job().name())))
        .compose(rows -> {
          if (rows.size() == 0) return Future.failedFuture(fenced);
          Row r = rows.iterator().next();
          long now = r.getLong(0);
          return r.getBoolean(1) && now != mine ? Future.failedFuture(new ApplierSuperseded(shape.job().name(), mine, now))
              : Future.failedFuture(fenced);
        });
  }

  private Future<Boolean> merges() {
    Future<Boolean> m = merges;
    if (m != null && !m.failed()) return m;
    m = target.timed("asking the target's version", () -> target.pool().query("SELECT current_setting('server_version_num')::int").execute())
        .map(rows -> rows.iterator().next().getInteger(0) >= KeyMerge.MIN_SERVER_VERSION);
    merges = m;
    return m;
  }

  private String keyParams(int first, String alias) {
    List<String> arrays = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < shape.sourceKey().size(); i++) {
      arrays.add("$" + (first + i) + "::text[]");
      names.add("sluice_k" + i);
    }
    return "unnest(" + String.join(", ", arrays) + ") WITH ORDINALITY AS " + alias + "(" + String.join(", ", names) + ", sluice_o)";
  }

  /**
   * The source read: the keys cast to their types and made distinct (one key spelled two ways by
   * two sessions is read once), looked up with the job's filter; returns one row: the number of
   * rows found, per column the found values packed into one array text, per key column the keys not
   * found (as text). Params: one text[] per key column. A one-column key is read with one scan of
   * the key array, a composite key key by key.
   */
  private String readSql() {
    return shape.sourceKey().size() == 1 ? readOneColumnKeySql() : readCompositeKeySql();
  }

  /**
   * The read for a one-column key: one index scan with the whole key array ({@code key = ANY(..)}),
   * about half the server's time of looking each key up on its own (benchmarks/PROFILE.md, "The
   * applier's re-read"); the keys not found are the array's keys less the found rows' keys. The
   * array's cast to the key's type makes one key spelled two ways one value, as the composite read's
   * DISTINCT does.
   */
  private String readOneColumnKeySql() {
    String t = shape.job().source().table().sql();
    String keys = "$1::text[]::" + shape.keyTypes().get(0) + "[]";
    String key = t + "." + Sql.ident(shape.sourceKey().get(0));
    List<String> packed = new ArrayList<>();
    for (int i = 0; i < shape.columns().size(); i++) packed.add("(array_agg(f.v" + i + "))::text");
    packed.add("(SELECT array_agg(g.k::text) FROM (SELECT unnest(" + keys + ") EXCEPT SELECT f.sluice_k FROM f) AS g(k))::text");
    return "WITH f AS MATERIALIZED (SELECT " + String.join(", ", values()) + ", p.sluice_k FROM (SELECT " + shape.sourceProjection()
        + ", " + key + " AS sluice_k FROM " + t + " WHERE " + shape.whereClause() + " AND " + key + " = ANY(" + keys + ")) p) "
        + "SELECT count(*), " + String.join(", ", packed) + " FROM f";
  }

  /** Each column of a re-read row {@code p} as it travels in the packed arrays, named v0, v1, .. */
  private List<String> values() {
    List<String> values = new ArrayList<>();
    for (int i = 0; i < shape.columns().size(); i++) {
      JobShape.Column c = shape.columns().get(i);
      values.add(ColumnKind.of(c.type()).select("p." + Sql.ident(c.name())) + " AS v" + i);
    }
    return values;
  }

  /** The read for a composite key: each distinct key looked up on its own. */
  private String readCompositeKeySql() {
    String t = shape.job().source().table().sql();
    List<String> keyNames = new ArrayList<>();
    List<String> typedKeys = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) {
      keyNames.add("sluice_k" + i);
      typedKeys.add("x.sluice_k" + i + "::" + shape.keyTypes().get(i) + " AS sluice_k" + i);
    }
    List<String> values = values();
    List<String> packed = new ArrayList<>();
    for (int i = 0; i < shape.columns().size(); i++) packed.add("(array_agg(s.v" + i + ") FILTER (WHERE s.sluice_found))::text");
    for (String k : keyNames) packed.add("(array_agg(k." + k + "::text) FILTER (WHERE s.sluice_found IS NULL))::text");
    String srcKey = "ROW(" + shape.sourceKey().stream().map(k -> t + "." + Sql.ident(k)).collect(Collectors.joining(", ")) + ")";
    String kRow = "ROW(" + keyNames.stream().map(k -> "k." + k).collect(Collectors.joining(", ")) + ")";
    return "SELECT count(s.sluice_found), " + String.join(", ", packed) + " FROM (SELECT DISTINCT " + String.join(", ", typedKeys)
        + " FROM " + keyParams(1, "x") + ") k LEFT JOIN LATERAL (SELECT true AS sluice_found, " + String.join(", ", values)
        + " FROM (SELECT " + shape.sourceProjection() + " FROM " + t + " WHERE " + shape.whereClause() + " AND " + srcKey + " = " + kRow
        + ") p) s ON true";
  }

  /**
   * The target write, fenced: upserts the packed rows and deletes the keys not found, in one
   * statement. Params: $1 job, one array text per column, one array text per key column (either
   * may be null), the applier epoch (or null). Returns one row: (fence rows, rows upserted, rows deleted).
   */
  private String writeSql() {
    List<String> texts = new ArrayList<>();
    List<String> casts = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    int n = 2;
    for (int i = 0; i < shape.columns().size(); i++) {
      JobShape.Column c = shape.columns().get(i);
      texts.add("$" + (n++) + "::text AS a" + i);
      casts.add("u." + Sql.ident(c.name()) + "::" + c.type());
      arrays.add("unnest(p.a" + i + "::" + ColumnKind.of(c.type()).arrayType() + ") AS " + Sql.ident(c.name()));
    }
    List<String> gone = new ArrayList<>();
    List<String> goneNames = new ArrayList<>();
    List<String> goneTyped = new ArrayList<>();
    for (int i = 0; i < shape.keyTypes().size(); i++) {
      texts.add("$" + (n++) + "::text AS d" + i);
      gone.add("p.d" + i + "::text[]");
      goneNames.add("g" + i);
      goneTyped.add("x.g" + i + "::" + shape.keyTypes().get(i));
    }
    String fence = "f AS (" + fenceRow(n) + ")";
    String table = shape.job().target().table().sql();
    String tk = "ROW(" + shape.targetKey().stream().map(Sql::ident).collect(Collectors.joining(", ")) + ")";
    String onConflict = new dev.sluice.copy.SegmentSql(shape).onConflict();
    // The packed texts come in through a MATERIALIZED CTE, as the copy's writes do (no array parsed at planning).
    return "WITH " + fence + ", p AS MATERIALIZED (SELECT " + String.join(", ", texts) + "), "
        + "ins AS (INSERT INTO " + table + " AS t (" + shape.targetColumnList() + ") " + dev.sluice.copy.SegmentSql.OVERRIDING + "SELECT " + String.join(", ", casts)
        + " FROM (SELECT " + String.join(", ", arrays) + " FROM p) AS u WHERE EXISTS (SELECT 1 FROM f) " + onConflict + " RETURNING 1), "
        + "d AS (DELETE FROM " + table + " WHERE EXISTS (SELECT 1 FROM f) AND " + tk + " IN (SELECT " + String.join(", ", goneTyped)
        + " FROM p, unnest(" + String.join(", ", gone) + ") AS x(" + String.join(", ", goneNames) + ")) RETURNING 1) "
        + "SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM ins), (SELECT count(*) FROM d)";
  }
}
