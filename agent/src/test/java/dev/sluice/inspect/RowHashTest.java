package dev.sluice.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.JobConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The row hash's SQL: the text kind as it always was, the record kind typed only where that is safe. */
class RowHashTest {
  private static JobShape shape(boolean record, String... nameTypes) {
    List<JobShape.Column> cols = new java.util.ArrayList<>();
    for (int i = 0; i < nameTypes.length; i += 2) cols.add(new JobShape.Column(nameTypes[i], nameTypes[i], nameTypes[i + 1], i == 0));
    return new JobShape((JobConfig) null, cols, List.of("id"), List.of("id"), List.of("bigint"), true, 0, record);
  }

  @Test
  void textKindIsTheRecordTextHash() {
    RowHash h = shape(false, "id", "bigint", "doc", "json").rowHash();
    assertFalse(h.record());
    assertFalse(h.typed(0));
    assertEquals("hashtextextended(s::text, 0)", h.ofRow("s"));
    assertEquals("hashtextextended(ROW(t.v0, t.r1)::text, 0)", h.of(List.of("t.v0", "t.r1")));
    assertEquals("coalesce(sum(hashtextextended(t::text, 0)), 0)", h.sum("t"));
  }

  @Test
  void recordKindTypesOnlyValuesWhoseHashIsTheirIdentity() {
    RowHash h = shape(true, "id", "bigint", "amount", "numeric(12,2)", "free", "numeric", "at", "timestamp with time zone",
        "label", "text", "doc", "json", "x", "double precision", "ids", "integer[]", "mood", "public.mood").rowHash();
    assertTrue(h.record());
    assertEquals(List.of(true, true, false, true, false, false, false, false, false),
        java.util.stream.IntStream.range(0, 9).mapToObj(h::typed).toList());
    assertEquals("hash_record_extended(ROW(s.\"id\", s.\"amount\", (s.\"free\")::text COLLATE \"C\", s.\"at\", "
        + "(s.\"label\")::text COLLATE \"C\", (s.\"doc\")::text COLLATE \"C\", (s.\"x\")::text COLLATE \"C\", "
        + "(s.\"ids\")::text COLLATE \"C\", (s.\"mood\")::text COLLATE \"C\"), 0)", h.ofRow("s"));
  }

  @Test
  void typedListCoversTheCommonExactTypes() {
    for (String t : List.of("bigint", "integer", "smallint", "boolean", "date", "uuid", "bytea", "timestamp without time zone",
        "timestamp(3) with time zone", "time without time zone", "time(0) without time zone", "numeric(20,6)", "numeric(10)")) {
      assertTrue(RowHash.hashedTyped(t), t);
    }
    for (String t : List.of("text", "character varying(40)", "numeric", "real", "double precision", "interval", "json", "jsonb",
        "point", "xml", "bigint[]", "timestamp with time zone[]", "time with time zone", "character(3)", "public.mood")) {
      assertFalse(RowHash.hashedTyped(t), t);
    }
  }
}
