package dev.sluice.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.TableName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DriftMonitorTest {
  private static Map<String, String> cols(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
    return m;
  }

  @Test
  void namesEachColumnAddedDroppedOrRetyped() {
    TableName t = TableName.parse("public.items");
    List<String> d = DriftMonitor.diff("source", t, cols("id", "bigint", "name", "text", "qty", "integer"),
        cols("id", "bigint", "name", "character varying(10)", "extra", "integer"));
    assertEquals(List.of(
        "column name of source table public.items retyped from text to character varying(10)",
        "column extra integer added to source table public.items",
        "column qty dropped from source table public.items"), d);
  }

  @Test
  void noDifferenceNoDrift() {
    TableName t = TableName.parse("public.items");
    assertEquals(List.of(), DriftMonitor.diff("target", t, cols("id", "bigint"), cols("id", "bigint")));
  }

  @Test
  void aSwapIsAnotherOidUnderTheNameAndNothingElseIs() {
    TableName t = TableName.parse("public.items");
    assertEquals(java.util.Optional.of("source table public.items is another table now (oid 100 -> 200; the old one is items_old now)"),
        DriftMonitor.swap("source", t, "100|", "200|items_old"));
    assertEquals(java.util.Optional.of("target table public.items is another table now (oid 100 -> 200; the old one is dropped)"),
        DriftMonitor.swap("target", t, "100|", "200|"));
    assertEquals(java.util.Optional.empty(), DriftMonitor.swap("source", t, "100|", "100|public.items"), "the same table");
    assertEquals(java.util.Optional.empty(), DriftMonitor.swap("source", t, "100|", "|items_old"), "gone: the column check says so");
    assertEquals(java.util.Optional.empty(), DriftMonitor.swap("target", t, "|", "200|"), "created by the job after the baseline");
  }
}
