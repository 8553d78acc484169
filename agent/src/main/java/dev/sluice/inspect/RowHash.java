package dev.sluice.inspect;

import dev.sluice.config.Sql;
import java.util.ArrayList;
import java.util.List;

/**
 * The row hash, the one place its SQL is written: every statement that hashes rows for the
 * per-segment proof, the final pass, drift checks and bisection (on either side) takes its
 * expression from here, so the two sides always compute the same function.
 *
 * <p>Two kinds, chosen once per job at inspection ({@link JobShape#recordHash()}):
 * <ul>
 *   <li>{@code RECORD} (both servers PostgreSQL 14 or later): {@code hash_record_extended(ROW(..), 0)}.
 *       Columns of a type whose hash is a function of its value alone and whose equality is identity
 *       enter as typed values (integers, boolean, date, time, timestamps, uuid, bytea, numeric with a
 *       declared scale): no text is formatted for them, which makes the hash about 2.5 times cheaper
 *       than the text form on the benchmark table. Every other column enters as its text
 *       ({@code ::text COLLATE "C"}): types with no hash function (json, point, xml), types whose
 *       equal values print differently (unconstrained numeric 1.0 and 1.00, float -0 and 0, intervals
 *       '1 day' and '24 hours': the text keeps them apart, as the proof always has), enums (hashed by
 *       their catalog OID, which differs between databases) and collatable types (a nondeterministic
 *       collation would hash 'a' and 'A' alike; "C" hashes the bytes).</li>
 *   <li>{@code TEXT} (an older server): {@code hashtextextended(row::text, 0)}, the record's text.</li>
 * </ul>
 * Either way, a row's hash is summed over a range (mod 2^64): order-independent, NULL distinct from
 * empty.
 */
public final class RowHash {
  private final boolean record;
  private final List<JobShape.Column> columns;

  RowHash(JobShape shape) {
    this.record = shape.recordHash();
    this.columns = shape.columns();
  }

  /** True for {@code hash_record_extended}, false for the record-text hash. */
  public boolean record() {
    return record;
  }

  /**
   * Whether column {@code i} enters the hash as its typed value; otherwise as its text, so a caller
   * that already holds the column's text ({@code (value)::text}) may pass that instead.
   */
  public boolean typed(int i) {
    return record && hashedTyped(columns.get(i).type());
  }

  /** Types (as {@code format_type} prints them) hashed by value in a {@code RECORD} hash. */
  static boolean hashedTyped(String type) {
    if (type.endsWith("[]")) return false;
    return switch (type) {
      case "bigint", "integer", "smallint", "boolean", "date", "uuid", "bytea" -> true;
      default -> type.startsWith("timestamp") || type.startsWith("time without time zone") || type.startsWith("time(")
          || type.startsWith("numeric(");
    };
  }

  /**
   * The hash of one row from its column values, in column order: a typed value where {@link #typed}
   * says so, else the typed value or its text.
   */
  public String of(List<String> values) {
    if (!record) return "hashtextextended(ROW(" + String.join(", ", values) + ")::text, 0)";
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      parts.add(typed(i) ? values.get(i) : "(" + values.get(i) + ")::text COLLATE \"C\"");
    }
    return "hash_record_extended(ROW(" + String.join(", ", parts) + "), 0)";
  }

  /** The hash of a row of relation {@code alias}, whose columns are the job's mapped columns typed as in the target. */
  public String ofRow(String alias) {
    if (!record) return "hashtextextended(" + alias + "::text, 0)";
    return of(columns.stream().map(c -> alias + "." + Sql.ident(c.name())).toList());
  }

  /** The sum of {@link #ofRow} over relation {@code alias}, 0 for no rows (a numeric). */
  public String sum(String alias) {
    return "coalesce(sum(" + ofRow(alias) + "), 0)";
  }
}
