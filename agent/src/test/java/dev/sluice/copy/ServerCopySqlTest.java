package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.JobConfig;
import dev.sluice.inspect.JobShape;
import dev.sluice.plan.KeyRange;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The server-side copy reads the range twice only when two reads must agree. */
class ServerCopySqlTest {
  private static JobShape shape(String where, String nameExpr) {
    String json = """
        {"source": {"url": "postgresql://u@h/d"}, "target": {"url": "postgresql://u@h/d"},
         "jobs": [{"name": "j", "source": {"table": "public.a", "key": ["id"]%s}, "target": {"table": "public.b"}}]}"""
        .formatted(where == null ? "" : ", \"where\": \"" + where + "\"");
    JobConfig job = ConfigLoader.parse(json).jobs().get(0);
    return new JobShape(job, List.of(new JobShape.Column("id", "\"id\"", "bigint", true), new JobShape.Column("name", nameExpr, "text", false)),
        List.of("id"), List.of("id"), List.of("bigint"), true, 0, true);
  }

  private static String sql(JobShape s) {
    return new SegmentSql(s).serverCopy(new KeyRange(null, null), false).sql();
  }

  @Test
  void plainColumnsAndNoFilterScanTwice() {
    String q = sql(shape(null, "\"name\""));
    assertFalse(q.contains("MATERIALIZED"), q);
    assertTrue(q.contains("h AS (SELECT count(*) AS n, coalesce(sum(hash_record_extended("), q);
    assertTrue(q.contains(" ON CONFLICT (\"id\") DO UPDATE"), q);
    // A first attempt inserts plainly.
    String plain = new SegmentSql(shape(null, "\"name\"")).serverCopy(new KeyRange(null, null), true).sql();
    assertFalse(plain.contains("ON CONFLICT"), plain);
    assertTrue(plain.contains("WHERE EXISTS (SELECT 1 FROM f) RETURNING 1"), plain);
  }

  @Test
  void anExpressionOrAFilterMaterialisesOnce() {
    assertTrue(sql(shape(null, "upper(\"name\")")).contains("s AS MATERIALIZED"));
    assertTrue(sql(shape("random() < 0.5", "\"name\"")).contains("s AS MATERIALIZED"));
    assertTrue(sql(shape(null, "\"name\" || \"x\"")).contains("s AS MATERIALIZED"));
  }
}
