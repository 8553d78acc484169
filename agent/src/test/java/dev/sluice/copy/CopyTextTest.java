package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** COPY text rows: the key fields a cut needs, decoded as COPY FROM reads them; the row hash. */
class CopyTextTest {
  private static byte[] row(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void leadingFieldsDecodeEveryEscapeCopyWrites() {
    // What COPY TO writes for a tab, a newline, a carriage return, a backslash, and the text \N.
    byte[] r = row("a\\tb\\nc\\rd\\\\e\t\\\\N\t\\N\tx\\by\\fz\\v\trest\n");
    assertEquals(Arrays.asList("a\tb\nc\rd\\e", "\\N", null, "x\by\fz\u000b"), CopyText.fields(r, 0, 4));
    assertEquals(List.of(""), CopyText.fields(row("\tx\n"), 0, 1), "an empty string is a field, not NULL");
  }

  @Test
  void octalAndHexEscapesAndUnicodeAsCopyFromReadsThem() {
    assertEquals(List.of("AB!C\u00e9"), CopyText.fields(row("\\101\\x42\\41C\\303\\251\n"), 0, 1));
    assertEquals(List.of("x\\y"), CopyText.fields(row("x\\\\y\n"), 0, 1));
    assertEquals(List.of("xq"), CopyText.fields(row("\\xq\n"), 0, 1), "\\x without a hex digit is a plain x");
    assertEquals(List.of("日本 🙂", "2"), CopyText.fields(row("日本 🙂\t2\tz\n"), 0, 2));
  }

  @Test
  void aRowFurtherIntoAChunkAndTooFewFields() {
    byte[] chunk = row("1\tfirst\n22\tsecond\n");
    int second = CopyText.rowEnd(chunk, 0, chunk.length);
    assertEquals(8, second);
    assertEquals(List.of("22", "second"), CopyText.fields(chunk, second, 2));
    assertThrows(IllegalArgumentException.class, () -> CopyText.fields(row("only\n"), 0, 2));
    assertEquals(-1, CopyText.rowEnd(row("no newline"), 0, 10));
  }

  @Test
  void theRowHashIsTheBytesHashAndTheSumIgnoresOrder() {
    byte[] a = row("1\ta\n");
    byte[] b = row("2\tb\n");
    byte[] both = row("x1\ta\n2\tb\n");
    assertEquals(CopyText.rowHash(a, 0, a.length), CopyText.rowHash(both, 1, a.length), "a row hashes alike wherever it sits");
    assertNotEquals(CopyText.rowHash(a, 0, a.length), CopyText.rowHash(b, 0, b.length));
    long ab = CopyText.rowHash(a, 0, a.length) + CopyText.rowHash(b, 0, b.length);
    long ba = CopyText.rowHash(b, 0, b.length) + CopyText.rowHash(a, 0, a.length);
    assertEquals(ab, ba);
    assertNotEquals(CopyText.rowHash(row("\\N\n"), 0, 3), CopyText.rowHash(row("\n"), 0, 1), "NULL and empty differ");
    assertNull(CopyText.field(row("\\N"), 0, 2));
  }
}
