package dev.sluice.verify;

import dev.sluice.config.TableName;
import dev.sluice.inspect.JobShape;
import dev.sluice.resilience.DatabaseStalled;
import dev.sluice.resilience.ErrorClassifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema drift: every {@code drift.intervalMs} compares the source and target tables' columns (name
 * and type) with what they were when the job started on this agent. A column added, dropped or
 * retyped on either side pauses the job with a reason that names it. Once an operator resumes the job
 * the current columns become the new baseline (restart with an updated config to change what is
 * copied).
 *
 * <p>Each poll also compares both tables' files ({@link RewriteWatch}) with the last poll's: a rewrite
 * or TRUNCATE (which the column check misses when no type changes) is told to the listener set with
 * {@link #onRewrite}, once per rewrite, paused or not.
 *
 * <p>The agent hands it the final verification's pools, every statement timed: a check whose database
 * went silent fails after {@code sessions.stallTimeoutMs} (a WARN with the reason), the pool's
 * connections are reset, and the next poll checks on fresh ones (it never waits for ever, nor holds a
 * connection of the copy's pools).
 */
public final class DriftMonitor {
  private static final Logger log = LoggerFactory.getLogger(DriftMonitor.class);

  private final Vertx vertx;
  private final JobShape shape;
  private final SqlClient source;
  private final SqlClient target;
  private final Function<String, Future<Void>> pause;
  private final BooleanSupplier paused;
  private final RewriteWatch watch;
  private volatile Consumer<List<String>> rewritten = changes -> {};
  private RewriteWatch.Files files;
  private Map<String, String> sourceCols;
  private Map<String, String> targetCols;
  /** Each table's oid at the baseline: another oid under the same name is another table (a swap). */
  private String sourceOid;
  private String targetOid;
  private boolean reported;
  private boolean busy;
  private long timer = -1;

  public DriftMonitor(Vertx vertx, JobShape shape, SqlClient source, SqlClient target, Function<String, Future<Void>> pause,
      BooleanSupplier paused) {
    this.vertx = vertx;
    this.shape = shape;
    this.source = source;
    this.target = target;
    this.pause = pause;
    this.paused = paused;
    this.watch = new RewriteWatch(shape, source, target);
  }

  /** Tells {@code listener} of each rewrite of either table seen by a poll (its sentences, see {@link RewriteWatch}). */
  public void onRewrite(Consumer<List<String>> listener) {
    this.rewritten = listener;
  }

  public Future<Void> start() {
    return baseline().onSuccess(v -> timer = vertx.setPeriodic(shape.job().drift().interval().toMillis(), t -> tick()));
  }

  public void stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  private Future<Void> baseline() {
    return columns(source, shape.job().source().table()).compose(s -> columns(target, shape.job().target().table()).map(t -> {
      sourceCols = s;
      targetCols = t;
      return null;
    })).compose(v -> oid(source, shape.job().source().table(), null)).compose(s -> oid(target, shape.job().target().table(), null).map(t -> {
      sourceOid = s;
      targetOid = t;
      return null;
    })).compose(v -> files == null ? watch.now().map(f -> files = f).mapEmpty() : Future.succeededFuture());
  }

  private void tick() {
    if (busy) return;
    busy = true;
    Future<?> columns;
    if (reported && !paused.getAsBoolean()) {
      // The operator resumed: accept the schema as it is now.
      reported = false;
      columns = baseline();
    } else {
      columns = reported ? Future.succeededFuture() : check();
    }
    columns.compose(v -> rewrites()).onComplete(ar -> {
      busy = false;
      if (ar.failed() && ar.cause() instanceof DatabaseStalled) {
        log.warn("job {}: drift check failed (will retry): {}", shape.job().name(), ErrorClassifier.describe(ar.cause()));
      } else if (ar.failed()) {
        log.debug("job {}: drift check failed: {}", shape.job().name(), ErrorClassifier.describe(ar.cause()));
      }
    });
  }

  /** Compares both tables' files with the last poll's; a rewrite goes to the listener. Returns its sentences. */
  public Future<List<String>> rewrites() {
    return watch.now().map(now -> {
      List<String> changes = files == null ? List.of() : watch.changes(files, now);
      files = now;
      if (!changes.isEmpty()) rewritten.accept(changes);
      return changes;
    });
  }

  /** Compares the catalogs with the baseline; pauses the job on a difference. */
  public Future<List<String>> check() {
    return swaps().compose(swapped -> swapped.isEmpty() ? columnDrift() : Future.succeededFuture(swapped));
  }

  /**
   * Another table under the job's table name (a new table renamed into it, the old one renamed away or
   * dropped): change capture stays on the old table (its triggers, its publication, by oid) and the
   * segments copied before were read from (or written into) it. Not a drift a restart can accept:
   * the job is paused, and its reason says to roll it back.
   */
  private Future<List<String>> swaps() {
    return oid(source, shape.job().source().table(), sourceOid).compose(s -> oid(target, shape.job().target().table(), targetOid).compose(t -> {
      List<String> out = new ArrayList<>();
      swap("source", shape.job().source().table(), sourceOid, s).ifPresent(out::add);
      swap("target", shape.job().target().table(), targetOid, t).ifPresent(out::add);
      if (out.isEmpty() || reported) return Future.succeededFuture(out);
      reported = true;
      String why = "table swapped: " + String.join("; ", out) + ". Change capture stays on the old table and the segments "
          + "copied so far were read from it or written into it: roll the job back (`sluice rollback`) and start it again";
      return pause.apply(why).map(out);
    }));
  }

  /** The oid's text now, with the table that had {@code was} ("oid|name"; name empty when it is gone). */
  private static Future<String> oid(SqlClient db, TableName t, String was) {
    String old = was == null ? null : was.substring(0, was.indexOf('|'));
    return db.preparedQuery("SELECT to_regclass($1)::oid::text || '|' || coalesce((SELECT c.oid::regclass::text FROM pg_class c "
            + "WHERE c.oid = $2::text::oid), '')")
        .execute(Tuple.of(t.sql(), old)).map(rows -> {
          String v = rows.iterator().next().getString(0);
          return v == null ? "|" : v;
        });
  }

  /** A sentence when {@code table}'s oid is another than the baseline's ("oid|old name now"). */
  static java.util.Optional<String> swap(String side, TableName table, String before, String now) {
    if (before == null || now == null) return java.util.Optional.empty();
    String was = before.substring(0, before.indexOf('|'));
    String is = now.substring(0, now.indexOf('|'));
    if (was.isEmpty() || is.isEmpty() || was.equals(is)) return java.util.Optional.empty(); // gone: the column check says so
    String oldName = now.substring(now.indexOf('|') + 1);
    return java.util.Optional.of(side + " table " + table + " is another table now (oid " + was + " -> " + is + "; the old one "
        + (oldName.isEmpty() ? "is dropped" : "is " + oldName + " now") + ")");
  }

  private Future<List<String>> columnDrift() {
    return columns(source, shape.job().source().table()).compose(s -> columns(target, shape.job().target().table()).compose(t -> {
      List<String> changes = new ArrayList<>();
      changes.addAll(diff("source", shape.job().source().table(), sourceCols, s));
      changes.addAll(diff("target", shape.job().target().table(), targetCols, t));
      if (changes.isEmpty() || reported) return Future.succeededFuture(changes);
      reported = true;
      String why = "schema drift: " + String.join("; ", changes) + "; update the config (or the tables) and restart, or resume to accept";
      return pause.apply(why).map(changes);
    }));
  }

  static List<String> diff(String side, TableName table, Map<String, String> before, Map<String, String> now) {
    List<String> out = new ArrayList<>();
    if (before == null) return out;
    for (Map.Entry<String, String> e : now.entrySet()) {
      String was = before.get(e.getKey());
      if (was == null) out.add("column " + e.getKey() + " " + e.getValue() + " added to " + side + " table " + table);
      else if (!was.equals(e.getValue())) out.add("column " + e.getKey() + " of " + side + " table " + table + " retyped from " + was + " to " + e.getValue());
    }
    for (String c : before.keySet()) if (!now.containsKey(c)) out.add("column " + c + " dropped from " + side + " table " + table);
    if (now.isEmpty() && !before.isEmpty()) out.add(side + " table " + table + " is gone");
    return out;
  }

  private static Future<Map<String, String>> columns(SqlClient db, TableName t) {
    return db.preparedQuery("SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            + "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")
        .execute(Tuple.of(t.sql()))
        .map(rows -> {
          Map<String, String> out = new LinkedHashMap<>();
          for (Row r : rows) out.put(r.getString(0), r.getString(1));
          return out;
        });
  }
}
