package dev.sluice.copy;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL's COPY text format, as far as the COPY path reads it. A row ends with a newline byte
 * that never occurs inside a value (COPY writes a value's newline as {@code \n}); fields are
 * separated by tabs (a value's tab is {@code \t}); {@code \N} is NULL, so NULL and the empty
 * string differ. The agent does not decode rows: it hashes each row's bytes as they pass, and
 * decodes the key fields of one row only when a segment is cut there.
 *
 * <p>Row hash: XXH3-64 (hash4j) of the row's bytes, newline included; a segment's fingerprint is
 * the sum of its rows' hashes mod 2^64, so the order rows arrive in does not matter, and equal rows
 * hash alike on both sides because both sessions print them with the same settings
 * ({@link CopySessions#SETTINGS}).
 */
public final class CopyText {
  private static final Hasher64 XXH3 = Hashing.xxh3_64();
  static final byte NEWLINE = '\n';
  private static final byte TAB = '\t';
  private static final byte BACKSLASH = '\\';

  private CopyText() {}

  /** The hash of one row: {@code len} bytes from {@code off}, its newline included. */
  public static long rowHash(byte[] b, int off, int len) {
    return XXH3.hashBytesToLong(b, off, len);
  }

  /** The end (exclusive, past its newline) of the row that starts at {@code off}, or -1 if no newline comes before {@code limit}. */
  static int rowEnd(byte[] b, int off, int limit) {
    for (int i = off; i < limit; i++) if (b[i] == NEWLINE) return i + 1;
    return -1;
  }

  /**
   * The first {@code n} fields of the row that starts at {@code off}, decoded to their text (null for
   * {@code \N}). Used for the key of the row a cut begins at, which the key columns lead.
   */
  public static List<String> fields(byte[] b, int off, int n) {
    List<String> out = new ArrayList<>(n);
    int i = off;
    while (out.size() < n) {
      int start = i;
      while (i < b.length && b[i] != TAB && b[i] != NEWLINE) i++;
      if (i == b.length) throw new IllegalArgumentException("COPY row ends before field " + (out.size() + 1));
      out.add(field(b, start, i));
      if (b[i] == NEWLINE && out.size() < n) throw new IllegalArgumentException("COPY row has " + out.size() + " fields, wanted " + n);
      i++;
    }
    return out;
  }

  /** One raw field {@code [from, to)} decoded as PostgreSQL's COPY FROM reads it. */
  static String field(byte[] b, int from, int to) {
    if (to - from == 2 && b[from] == BACKSLASH && b[from + 1] == 'N') return null;
    ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c != BACKSLASH || i + 1 == to) {
        out.write(c);
        continue;
      }
      byte e = b[++i];
      if (e >= '0' && e <= '7') {
        int v = e - '0';
        for (int k = 0; k < 2 && i + 1 < to && b[i + 1] >= '0' && b[i + 1] <= '7'; k++) v = v * 8 + (b[++i] - '0');
        out.write(v & 0xff);
      } else if (e == 'x' && i + 1 < to && hex(b[i + 1]) >= 0) {
        int v = hex(b[++i]);
        if (i + 1 < to && hex(b[i + 1]) >= 0) v = v * 16 + hex(b[++i]);
        out.write(v);
      } else {
        out.write(switch (e) {
          case 'b' -> '\b';
          case 'f' -> '\f';
          case 'n' -> '\n';
          case 'r' -> '\r';
          case 't' -> '\t';
          case 'v' -> 0x0b;
          default -> e;
        });
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static int hex(byte c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
}
