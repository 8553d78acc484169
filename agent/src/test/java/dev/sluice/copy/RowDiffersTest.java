package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.inspect.JobShape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which columns compare as themselves, which byte for byte as text, and which through their text. */
class RowDiffersTest {
  private static String column(String type) {
    return RowDiffers.column(new JobShape.Column("c", "c", type, false), "t", "s");
  }

  @Test
  void typesWhoseEqualityIsTheirTextCompareAsThemselves() {
    for (String type : List.of("smallint", "integer", "bigint", "boolean", "uuid", "date", "bytea", "timestamp with time zone",
        "timestamp without time zone", "timestamp(3) with time zone", "timestamp(0) without time zone")) {
      assertEquals("t.\"c\" IS DISTINCT FROM s.\"c\"", column(type), type);
    }
  }

  @Test
  void textComparesByteForByte() {
    for (String type : List.of("text", "character varying", "character varying(20)")) {
      assertEquals("t.\"c\" COLLATE \"C\" IS DISTINCT FROM s.\"c\" COLLATE \"C\"", column(type), type);
    }
  }

  @Test
  void everythingElseComparesThroughItsText() {
    for (String type : List.of("numeric", "numeric(12,2)", "double precision", "real", "json", "jsonb", "point", "xml", "character(5)",
        "integer[]", "interval", "time without time zone", "mood", "public.my_domain", "money", "inet")) {
      assertEquals("t.\"c\"::text COLLATE \"C\" IS DISTINCT FROM s.\"c\"::text COLLATE \"C\"", column(type), type);
    }
  }

  @Test
  void aRowDiffersWhenAnyColumnDoes() {
    List<JobShape.Column> cols = List.of(new JobShape.Column("a", "a", "integer", false), new JobShape.Column("b", "b", "numeric", false));
    assertEquals("(t.\"a\" IS DISTINCT FROM x.\"a\" OR t.\"b\"::text COLLATE \"C\" IS DISTINCT FROM x.\"b\"::text COLLATE \"C\")",
        RowDiffers.sql(cols, "t", "x"));
    assertEquals("false", RowDiffers.sql(List.of(), "t", "x"));
  }
}
