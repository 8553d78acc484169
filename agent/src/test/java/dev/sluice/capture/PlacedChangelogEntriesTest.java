package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.sqlclient.Tuple;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The applier records the keys it was handed for segments being copied with one INSERT of two
 * text[] parameters. Built with {@code Tuple.of(keys, times)}, the times array was spread into one
 * parameter a key (Vert.x's varargs), so every such recording failed ("expected number of parameters
 * = [2] but the actual number is [25]") and the reader recorded the batch again itself.
 */
class PlacedChangelogEntriesTest {
  @Test
  void twoArraysWhateverTheNumberOfKeys() {
    for (int n : new int[] {1, 2, 25}) {
      List<List<String>> keys = new java.util.ArrayList<>();
      List<Long> micros = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        keys.add(List.of(String.valueOf(i), "k\"" + i));
        micros.add(86_400_000_000L * i); // PostgreSQL's epoch is 2000-01-01
      }
      Tuple t = PlacedChangelog.entries(keys, micros);
      assertEquals(2, t.size(), n + " keys");
      String[] lits = (String[]) t.getValue(0);
      String[] times = (String[]) t.getValue(1);
      assertEquals(n, lits.length);
      assertEquals(n, times.length);
      assertEquals(ChangelogWriter.arrayLiteral(keys.get(n - 1)), lits[n - 1]);
      assertArrayEquals(new String[] {"2000-01-01T00:00:00Z"}, java.util.Arrays.copyOf(times, 1));
    }
  }
}
