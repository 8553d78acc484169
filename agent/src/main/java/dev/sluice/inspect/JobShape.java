package dev.sluice.inspect;

import dev.sluice.config.JobConfig;
import dev.sluice.config.Sql;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A job resolved against the real databases: which target columns it writes, the SQL expression on
 * the source for each and the target type it is cast to, and the key on both sides.
 *
 * <p>Every value is cast to its target type on the source, so source and target print the same text
 * for it; that text is what travels. {@code recordHash}: both servers can compute
 * {@code hash_record_extended} (PostgreSQL 14+), so the row hash takes typed values (see {@link RowHash}).
 */
public record JobShape(
    JobConfig job,
    List<Column> columns,
    List<String> sourceKey,
    List<String> targetKey,
    List<String> keyTypes,
    boolean targetExists,
    double estimatedRows,
    boolean recordHash,
    List<String> sourceKeyCollations,
    List<String> targetKeyCollations) {

  /** A shape whose key columns sort by their columns' own collations (no explicit COLLATE). */
  public JobShape(JobConfig job, List<Column> columns, List<String> sourceKey, List<String> targetKey, List<String> keyTypes,
      boolean targetExists, double estimatedRows, boolean recordHash) {
    this(job, columns, sourceKey, targetKey, keyTypes, targetExists, estimatedRows, recordHash, List.of(), List.of());
  }

  /** A shape hashed with the record text ({@link RowHash}'s TEXT kind). */
  public JobShape(JobConfig job, List<Column> columns, List<String> sourceKey, List<String> targetKey, List<String> keyTypes,
      boolean targetExists, double estimatedRows) {
    this(job, columns, sourceKey, targetKey, keyTypes, targetExists, estimatedRows, false);
  }

  /**
   * {@code " COLLATE <the source key column's collation>"} for key part {@code i}, or "" for a type
   * without one: what a comparison of key values outside the column itself (cast from text, where
   * the database's default collation would apply) needs to order keys as the column and the plan do.
   */
  public String sourceKeyCollate(int i) {
    return collate(sourceKeyCollations, i);
  }

  /** The same on the target, with the target key column's collation (see {@link KeyCollations}). */
  public String targetKeyCollate(int i) {
    return collate(targetKeyCollations, i);
  }

  private static String collate(List<String> collations, int i) {
    return collations == null || i >= collations.size() || collations.get(i) == null ? "" : " COLLATE " + collations.get(i);
  }

  /** The job's row hash (see {@link RowHash}). */
  public RowHash rowHash() {
    return new RowHash(this);
  }

  /** One target column: its name, the source expression that fills it, and its target type. */
  public record Column(String name, String expression, String type, boolean key) {}

  public String targetColumnList() {
    return columns.stream().map(c -> Sql.ident(c.name())).collect(Collectors.joining(", "));
  }

  /** {@code (expr)::type AS "col"} for each column, evaluated on the source. */
  public String sourceProjection() {
    return columns.stream()
        .map(c -> "(" + c.expression() + ")::" + c.type() + " AS " + Sql.ident(c.name()))
        .collect(Collectors.joining(", "));
  }

  public String sourceKeyList() {
    return sourceKey.stream().map(Sql::ident).collect(Collectors.joining(", "));
  }

  /**
   * The source key for ORDER BY, qualified by the table: a bare name would bind to an output column
   * of the same name (a text cast of the key, say) and sort by that instead.
   */
  public String sourceKeyOrder() {
    String t = job.source().table().sql();
    return sourceKey.stream().map(k -> t + "." + Sql.ident(k)).collect(Collectors.joining(", "));
  }

  public String targetKeyList() {
    return targetKey.stream().map(Sql::ident).collect(Collectors.joining(", "));
  }

  /** The job's row filter as a SQL condition ({@code TRUE} when there is none). */
  public String whereClause() {
    return job.source().where() == null ? "TRUE" : "(" + job.source().where() + ")";
  }

  public List<Column> nonKeyColumns() {
    return columns.stream().filter(c -> !c.key()).toList();
  }
}
