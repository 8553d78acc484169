package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ColumnKindTest {
  @Test
  void integersTravelTypedEverythingElseAsText() {
    assertEquals(ColumnKind.LONG, ColumnKind.of("bigint"));
    assertEquals(ColumnKind.INT, ColumnKind.of("integer"));
    assertEquals(ColumnKind.SHORT, ColumnKind.of("smallint"));
    for (String t : new String[] {"numeric(12,2)", "text", "timestamp with time zone", "boolean", "my_domain", "bigint[]"}) {
      assertEquals(ColumnKind.TEXT, ColumnKind.of(t), t);
    }
    assertEquals("bigint[]", ColumnKind.LONG.arrayType());
    assertEquals("s.x::text", ColumnKind.TEXT.select("s.x"));
    assertEquals("s.x", ColumnKind.INT.select("s.x"));
  }

  @Test
  void rowHashReusesTextOnlyWhereTheCastIsTheOutputFunction() {
    assertTrue(SegmentSql.textCastIsOutput("numeric(12,2)"));
    assertTrue(SegmentSql.textCastIsOutput("timestamp with time zone"));
    assertTrue(SegmentSql.textCastIsOutput("character varying(20)"));
    // 'true' vs 't', trimmed padding, an added /32: these must be hashed from the typed value.
    assertFalse(SegmentSql.textCastIsOutput("boolean"));
    assertFalse(SegmentSql.textCastIsOutput("character(5)"));
    assertFalse(SegmentSql.textCastIsOutput("inet"));
  }
}
