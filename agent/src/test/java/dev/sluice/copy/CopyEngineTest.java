package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.plan.KeyRange;
import dev.sluice.testing.Tables;
import dev.sluice.testing.Async;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The COPY engine moves values that break COPY pipelines byte for byte, whatever the databases'
 * own output settings, and its read-back of the target hashes them as the copy hashed the source.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class CopyEngineTest {
  private final TestPg pg = TestPg.get();

  static final String TYPES = """
      CREATE TYPE mood AS ENUM ('sad', E'tab\\there', 'quo''te');
      CREATE DOMAIN posint AS int CHECK (VALUE > 0)""";

  static final String COLUMNS = "k text NOT NULL, n int NOT NULL, t text, e text, num numeric, f8 float8, f4 real, ts timestamptz, "
      + "tsn timestamp, d date, m mood, dom posint, iv interval, b bit(4), vb varbit, arr int[], tarr text[], j json, jb jsonb, "
      + "by bytea, u uuid, mon money, tz timetz";

  static final String ROWS = """
      INSERT INTO hostile
      SELECT (ARRAY[E'a\\tb', E'a\\nb', E'back\\\\slash', E'\\\\N', '', 'quote''s', 'plain', E'cr\\rx', '日本'])[1 + g % 9], g,
        (ARRAY[E'tab\\tin', E'nl\\nin', E'bs\\\\in', E'\\\\N', '', NULL, E'\\\\.', 'x'])[1 + g % 8],
        CASE WHEN g % 2 = 0 THEN '' END,
        (ARRAY['NaN', 'Infinity', '-Infinity', '0.000', '1.10', '-1e-20', '123456789012345678901234567890.123'])[1 + g % 7]::numeric,
        (ARRAY['NaN', 'Infinity', '-Infinity', '-0', '1e-310', '0.1', '1.7976931348623157e308'])[1 + g % 7]::float8,
        (ARRAY['NaN', 'Infinity', '-0', '0.1', '3.4028235e38'])[1 + g % 5]::real,
        (ARRAY['infinity', '-infinity', '2024-02-29 23:59:59.999999+05:30', '0044-03-15 12:00:00+00 BC'])[1 + g % 4]::timestamptz,
        (ARRAY['infinity', '-infinity', '2024-02-29 23:59:59.5', '1999-12-31 00:00:00'])[1 + g % 4]::timestamp,
        (ARRAY['infinity', '-infinity', '2000-01-01', '0001-01-01 BC'])[1 + g % 4]::date,
        (enum_range(NULL::mood))[1 + g % 3],
        g,
        (ARRAY['1 day', '24 hours', '-1 year 2 mons 3 days 04:05:06.789', '0'])[1 + g % 4]::interval,
        (g % 16)::bit(4),
        CASE WHEN g % 3 = 0 THEN B'' ELSE (g % 64)::bit(6)::varbit END,
        (ARRAY['{{1,NULL},{NULL,4}}', '[0:1]={7,8}', '{}', NULL])[1 + g % 4]::int[],
        CASE WHEN g % 2 = 0 THEN ARRAY['NULL', NULL, '', E'a\\tb', E'q"u', E'b\\\\s', '{x}', E'n\\nl'] END,
        ('{"k": 1, "k": "dup", "s": "tab\\there ' || g || '"}')::json,
        ('{"k": 1, "k": "dup", "s": "nl\\nthere", "n": ' || g || '}')::jsonb,
        CASE WHEN g % 5 = 0 THEN NULL ELSE E'\\\\x00ff5c0a09'::bytea || int4send(g) END,
        md5(g::text)::uuid,
        (g * 1.25)::money,
        '23:59:59.999999+05:30'::timetz
      FROM generate_series(1, 3000) g""";

  /** Sessions that print values their own way: the COPY sessions pin theirs, so this must not matter. */
  private void oddSettings(String db, String zone, String dateStyle, String intervalStyle) {
    pg.exec(db, "ALTER DATABASE " + db + " SET TimeZone = '" + zone + "'", "ALTER DATABASE " + db + " SET DateStyle = '" + dateStyle + "'",
        "ALTER DATABASE " + db + " SET IntervalStyle = '" + intervalStyle + "'", "ALTER DATABASE " + db + " SET extra_float_digits = -3",
        "ALTER DATABASE " + db + " SET bytea_output = 'escape'");
  }

  @Test
  void hostileValuesArriveIntactAndBothSidesHashAlike(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("copy_src");
    String tgt = pg.createDatabase("copy_tgt");
    oddSettings(src, "America/New_York", "SQL, DMY", "iso_8601");
    oddSettings(tgt, "Asia/Kolkata", "German", "sql_standard");
    pg.exec(src, TYPES, "CREATE TABLE hostile (" + COLUMNS + ", PRIMARY KEY (k, n))", ROWS);
    // A computed column on the target, not written by the job: the target computes it, the read-back skips it.
    pg.exec(tgt, TYPES, "CREATE TABLE hostile (" + COLUMNS + ", g text GENERATED ALWAYS AS (k || '/' || n) STORED, PRIMARY KEY (k, n))");
    Checkpoint changedSeen = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    CopyFixture.with(vertx, src, tgt, """
        {"name": "hostile", "source": {"table": "public.hostile", "key": ["k", "n"]}, "target": {"table": "public.hostile"}}""", 2048,
        f -> f.claim(KeyRange.ALL).compose(seg -> {
          CopyFixture.Control control = f.new Control();
          return f.copy(seg, false, control).compose(r -> {
            ctx.verify(() -> {
              assertEquals(3000, r.rows());
              assertNull(r.cutAt());
              assertEquals(3000, control.written.get(), "every row written was reported to the pace");
            });
            CopyPath.Sum copied = new CopyPath.Sum(r.rows(), r.hash());
            // Compared with the servers' default settings: the odd ones would print equal values differently.
            String cols = "k, n, t, e, num, f8, f4, ts, tsn, d, m, dom, iv, b, vb, arr, tarr, j, jb, by, u, mon, tz";
            String q = "SELECT row(" + cols + ", array_dims(arr))::text FROM hostile ORDER BY k, n";
            return f.exec(src, "ALTER DATABASE " + src + " RESET ALL")
                .compose(v -> f.exec(tgt, "ALTER DATABASE " + tgt + " RESET ALL"))
                .compose(v -> Async.blocking(vertx, () -> Tables.assertSameRows(pg, src, q, tgt, q)))
                .compose(same -> {
                  ctx.verify(() -> assertEquals(3000, same));
                  return f.scalar(tgt, "SELECT count(*) FROM hostile WHERE g IS DISTINCT FROM k || '/' || n");
                })
                .compose(wrongG -> {
                  ctx.verify(() -> assertEquals(0, wrongG));
                  // The proof: the target's stored rows read back hash exactly as the source's streamed rows did.
                  return f.engine.targetSum(seg.range());
                })
                .compose(target -> {
                  ctx.verify(() -> assertEquals(copied, target));
                  return f.engine.sourceSum(seg.range());
                })
                .compose(source -> {
                  ctx.verify(() -> assertEquals(copied, source));
                  // A row changed on the target: the read-back says so.
                  return f.exec(tgt, "UPDATE hostile SET e = coalesce(e, 'was null') || ' changed' WHERE n = 77");
                })
                .compose(v -> f.engine.targetSum(seg.range()))
                .map(changed -> {
                  ctx.verify(() -> assertTrue(changed.hash() != r.hash()));
                  changedSeen.flag();
                  return null;
                });
          });
        }))
        .onComplete(ctx.succeeding(v -> closed.flag()));
  }

  @Test
  void aRangeBoundedByHostileKeysCopiesExactlyThatRange(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("copyrange_src");
    String tgt = pg.createDatabase("copyrange_tgt");
    pg.exec(src, TYPES, "CREATE TABLE hostile (" + COLUMNS + ", PRIMARY KEY (k, n))", ROWS);
    pg.exec(tgt, TYPES, "CREATE TABLE hostile (" + COLUMNS + ", PRIMARY KEY (k, n))");
    KeyRange range = new KeyRange(List.of("a\tb", "100"), List.of("quote's", "2000"));
    String in = "(k, n) >= (E'a\\tb', 100) AND (k, n) < ('quote''s', 2000)";
    long expected = pg.scalar(src, "SELECT count(*) FROM hostile WHERE " + in);
    assertTrue(expected > 500 && expected < 3000, "the range is a real part of the table: " + expected);
    Checkpoint summed = ctx.checkpoint();
    Checkpoint closed = ctx.checkpoint();
    CopyFixture.with(vertx, src, tgt, """
        {"name": "range", "source": {"table": "public.hostile", "key": ["k", "n"]}, "target": {"table": "public.hostile"}}""", 64 * 1024,
        f -> f.claim(range)
            .compose(seg -> f.copy(seg, false, f.new Control()))
            .compose(r -> {
              ctx.verify(() -> assertEquals(expected, r.rows()));
              return f.scalar(tgt, "SELECT count(*) FROM hostile")
                  .compose(all -> {
                    ctx.verify(() -> assertEquals(expected, all));
                    return f.scalar(tgt, "SELECT count(*) FROM hostile WHERE " + in);
                  })
                  .compose(inRange -> {
                    ctx.verify(() -> assertEquals(expected, inRange));
                    return f.engine.targetSum(range);
                  })
                  .map(sum -> {
                    ctx.verify(() -> assertEquals(new CopyPath.Sum(r.rows(), r.hash()), sum));
                    summed.flag();
                    return null;
                  });
            }))
        .onComplete(ctx.succeeding(v -> closed.flag()));
  }
}
