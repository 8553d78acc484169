package dev.sluice.copy;

import java.math.BigInteger;
import java.util.List;

/**
 * One batch of rows as the source packed it: per column, the batch's values as one array in its
 * text form (the target parses it, as COPY parses text; the agent never decodes a value), with the
 * row count, the sum of the row hashes, and the first and last key (text per key column): the last
 * pages on to the next batch, both name where a failure happened, the first is where a cut begins.
 */
public record Batch(String[] columns, int size, long hashSum, List<String> firstKey, List<String> lastKey) {
  static final Batch END = new Batch(new String[0], 0, 0, null, null);

  /** The batch's keys for an error message: {@code first .. last}. */
  public String keySpan() {
    return text(firstKey) + " .. " + text(lastKey);
  }

  private static String text(List<String> key) {
    return key == null ? "?" : key.size() == 1 ? key.get(0) : "(" + String.join(", ", key) + ")";
  }

  /** Reduces a PostgreSQL numeric sum of bigint hashes to the same mod-2^64 value Java's long sum has. */
  public static long wrap(String numericSum) {
    return new BigInteger(numericSum).longValue();
  }
}
