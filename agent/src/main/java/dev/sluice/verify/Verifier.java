package dev.sluice.verify;

import dev.sluice.copy.Batch;
import dev.sluice.copy.SegmentSql;
import dev.sluice.plan.KeyRange;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Proves a segment: row count and order-independent hash of the mapped columns on both sides. The
 * source side normally comes from the copy itself (same scan); {@link #source} recomputes it when the
 * source range may have changed since.
 */
public final class Verifier {
  private final SegmentSql sql;

  public Verifier(SegmentSql sql) {
    this.sql = sql;
  }

  /** A side's fingerprint of a range. */
  public record Fingerprint(long rows, long hash) {
    public String describe() {
      return rows + " rows, hash " + Long.toHexString(hash);
    }
  }

  public Future<Fingerprint> target(SqlClient target, KeyRange r) {
    return run(target, sql.targetHash(r));
  }

  public Future<Fingerprint> source(SqlClient source, KeyRange r) {
    return run(source, sql.sourceHash(r));
  }

  private static Future<Fingerprint> run(SqlClient db, SegmentSql.Statement st) {
    return db.preparedQuery(st.sql()).execute(Tuple.tuple(st.params())).map(rows -> {
      Row r = rows.iterator().next();
      return new Fingerprint(r.getLong(0), Batch.wrap(r.getString(1)));
    });
  }
}
