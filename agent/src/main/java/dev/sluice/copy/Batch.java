package dev.sluice.copy;

import java.math.BigInteger;

/**
 * Rows of one batch, column-major as the upsert binds them (each column an array of its
 * {@link ColumnKind}: Long[], Integer[], Short[] or String[]), with the sum of their row hashes and
 * the first and last key seen (to name where a failure happened).
 */
public record Batch(Object[][] columns, int size, long hashSum, String firstKey, String lastKey) {

  /** Reduces a PostgreSQL numeric sum of bigint hashes to the same mod-2^64 value Java's long sum has. */
  public static long wrap(String numericSum) {
    return new BigInteger(numericSum).longValue();
  }
}
