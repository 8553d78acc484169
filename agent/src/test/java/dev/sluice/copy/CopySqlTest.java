package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.JobConfig;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The COPY path's SQL: key columns travel first on both sides; bounds are literals that cannot break out of their quotes. */
class CopySqlTest {
  private static CopySql sql() {
    JobConfig job = ConfigLoader.parse("""
        {"source": {"url": "postgresql://u@h/d"}, "target": {"url": "postgresql://u@h/e"},
         "jobs": [{"name": "j", "source": {"table": "public.a", "key": ["tenant", "id"]}, "target": {"table": "public.b"}}]}""")
        .jobs().get(0);
    return new CopySql(new JobShape(job, List.of(new JobShape.Column("note", "upper(\"note\")", "text", false),
        new JobShape.Column("id", "\"id\"", "bigint", true), new JobShape.Column("tenant", "\"tenant\"", "text", true)),
        List.of("tenant", "id"), List.of("tenant", "id"), List.of("text", "bigint"), true, 0, true));
  }

  @Test
  void keyColumnsLeadInTheKeysOrderOnBothSides() {
    CopySql s = sql();
    assertEquals(2, s.keyFields());
    assertEquals("\"tenant\", \"id\", \"note\"", s.columnList());
    assertEquals("COPY \"public\".\"b\" (\"tenant\", \"id\", \"note\") FROM STDIN", s.targetCopy());
    String out = s.sourceCopy(KeyRange.ALL);
    assertTrue(out.startsWith("COPY (SELECT (\"tenant\")::text AS \"tenant\", (\"id\")::bigint AS \"id\", (upper(\"note\"))::text AS \"note\" "
        + "FROM \"public\".\"a\" WHERE TRUE AND TRUE ORDER BY"), out);
  }

  @Test
  void boundsAreQuotedLiteralsCastLikeParameters() {
    CopySql s = sql();
    KeyRange r = new KeyRange(List.of("it's\\", "5"), List.of("z\t", "-1"));
    assertEquals("(\"tenant\", \"id\") >= ('it''s\\'::text::text, '5'::text::bigint) AND (\"tenant\", \"id\") < ('z\t'::text::text, '-1'::text::bigint)",
        s.range(List.of("tenant", "id"), r));
    assertEquals("TRUE", s.range(List.of("tenant", "id"), KeyRange.ALL));
    assertThrows(IllegalArgumentException.class, () -> CopySql.literal("a\0b"));
  }
}
