package dev.sluice.copy;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of the COPY path for one job, built once from its {@link JobShape}.
 *
 * <p>Columns travel key first (the target key's columns in key order, then the rest, both sides
 * listing them explicitly), so the key of any row is its leading fields. COPY takes no parameters,
 * so key bounds are written as literals: each bound's text, quoted (with
 * {@code standard_conforming_strings} on, which {@link CopySessions} pins) and cast as
 * {@link KeyRange} casts its parameters, {@code '..'::text::type}.
 */
public final class CopySql {
  private final JobShape shape;
  private final List<JobShape.Column> order;
  private final int keys;

  public CopySql(JobShape shape) {
    this.shape = shape;
    List<JobShape.Column> cols = new ArrayList<>();
    for (String k : shape.targetKey()) {
      cols.add(shape.columns().stream().filter(c -> c.name().equals(k)).findFirst()
          .orElseThrow(() -> new IllegalStateException("key column " + k + " is not mapped")));
    }
    shape.columns().stream().filter(c -> !cols.contains(c)).forEach(cols::add);
    this.order = List.copyOf(cols);
    this.keys = shape.targetKey().size();
  }

  public JobShape shape() {
    return shape;
  }

  /** How many leading fields of a row are its key. */
  public int keyFields() {
    return keys;
  }

  /** The column list in travel order, as the target names them. */
  String columnList() {
    return order.stream().map(c -> Sql.ident(c.name())).collect(Collectors.joining(", "));
  }

  private String projection() {
    return order.stream().map(c -> "(" + c.expression() + ")::" + c.type() + " AS " + Sql.ident(c.name()))
        .collect(Collectors.joining(", "));
  }

  private String sourceRows(KeyRange r) {
    return "SELECT " + projection() + " FROM " + shape.job().source().table().sql() + " WHERE " + shape.whereClause()
        + " AND " + range(shape.sourceKey(), r);
  }

  /** The segment's rows out of the source snapshot, in key order (a cut needs every row below its key written). */
  public String sourceCopy(KeyRange r) {
    return "COPY (" + sourceRows(r) + " ORDER BY " + shape.sourceKeyOrder() + ") TO STDOUT";
  }

  /** The source range's rows for a fresh fingerprint, in no particular order (the hash does not care). */
  public String sourceFingerprint(KeyRange r) {
    return "COPY (" + sourceRows(r) + ") TO STDOUT";
  }

  /** The target range's stored rows, read back for verification as the source printed them. */
  public String targetFingerprint(KeyRange r) {
    return "COPY (SELECT " + columnList() + " FROM " + shape.job().target().table().sql() + " WHERE "
        + range(shape.targetKey(), r) + ") TO STDOUT";
  }

  public String targetCopy() {
    return "COPY " + shape.job().target().table().sql() + " (" + columnList() + ") FROM STDIN";
  }

  /**
   * Taken before the snapshot, the first statement of the source transaction: a TRUNCATE or table
   * rewrite either committed before it (and the snapshot sees the result) or waits for the copy to
   * end. Taken after, the snapshot could predate such a statement and read an emptied relation
   * (MVCC does not cover TRUNCATE or a rewrite).
   */
  public String lockSource() {
    return "LOCK TABLE " + shape.job().source().table().sql() + " IN ACCESS SHARE MODE";
  }

  /** Fenced delete of the target range before a re-copy, in the COPY's own transaction. */
  public String purge(KeyRange r) {
    return "DELETE FROM " + shape.job().target().table().sql() + " WHERE " + range(shape.targetKey(), r);
  }

  /**
   * The fence, first statement of the target transaction (params: job, seq, owner, epoch): the
   * segment's ledger row at this lease, locked {@code FOR KEY SHARE} until commit, so a takeover
   * (a claim locks {@code FOR UPDATE SKIP LOCKED}) skips it while the COPY runs, and the owner's
   * heartbeat (a plain UPDATE) still renews it. {@code atCommit}: checked again right before
   * COMMIT against the clock, not the transaction's start: a lease that ran out during a long COPY
   * (an agent frozen past its term) commits nothing.
   */
  public static String fence(boolean atCommit) {
    return "SELECT 1 FROM sluice.segments WHERE job = ? AND seq = ? AND owner = ? AND lease_epoch = ? AND lease_expires_at > "
        + (atCommit ? "clock_timestamp()" : "now()") + " FOR KEY SHARE";
  }

  /** A range over key columns with literal bounds: {@code (a, b) >= ('x'::text::t1, '1'::text::t2) AND ..}. */
  String range(List<String> columns, KeyRange r) {
    List<String> cols = columns.stream().map(Sql::ident).toList();
    String me = cols.size() == 1 ? cols.get(0) : "(" + String.join(", ", cols) + ")";
    List<String> parts = new ArrayList<>();
    if (r.lower() != null) parts.add(me + " >= " + bound(r.lower()));
    if (r.upper() != null) parts.add(me + " < " + bound(r.upper()));
    return parts.isEmpty() ? "TRUE" : String.join(" AND ", parts);
  }

  private String bound(List<String> values) {
    List<String> types = shape.keyTypes();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) out.add(literal(values.get(i)) + "::text::" + types.get(i));
    return out.size() == 1 ? out.get(0) : "(" + String.join(", ", out) + ")";
  }

  /** A SQL string literal under {@code standard_conforming_strings = on}: quotes doubled, backslashes as they are. */
  static String literal(String s) {
    if (s.indexOf('\0') >= 0) throw new IllegalArgumentException("a key bound holds a NUL character");
    return "'" + s.replace("'", "''") + "'";
  }
}
