package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.plan.KeyRange;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rows larger than a chunk (and than the whole window of bytes in flight) travel as they came from
 * the driver, not copied into a second buffer of their size (before, a 54 MB value needed twice its
 * size of heap, and under the recommended -Xmx128m the reader died of it; its error, not being an
 * Exception, was not passed on and the segment hung in `copying` for good: CopyPipe now fails the
 * stream on any Throwable). Small rows around them are still batched, and the proof still holds.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class HugeRowCopyTest {
  private static final String TABLE = "CREATE TABLE items (id int PRIMARY KEY, t text)";
  private static final String SUM = "SELECT count(*) || ' ' || md5(string_agg(id || ':' || md5(t), ',' ORDER BY id)) FROM items";

  private final TestPg pg = TestPg.get();

  @Test
  void rowsLargerThanTheWindowArriveIntactAmongSmallOnes(Vertx vertx, VertxTestContext ctx) {
    String src = pg.createDatabase("hugerow_src");
    String tgt = pg.createDatabase("hugerow_tgt");
    // 64 KiB in flight, chunks of 16 KiB; every 50th row is 300 KB of text COPY escapes (tabs,
    // newlines, backslashes), two huge rows are neighbours (ids 100 and 101), the last row is huge.
    pg.exec(src, TABLE, """
        INSERT INTO items SELECT g, CASE WHEN g % 50 = 0 OR g = 101 OR g = 1000
          THEN repeat(E'a\\tb\\nc\\\\d' || g, 30000) ELSE 'small ' || g END FROM generate_series(1, 1000) g""");
    pg.exec(tgt, TABLE);
    CopyFixture.with(vertx, src, tgt, """
        {"name": "huge", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items"}}""", 64 * 1024,
        f -> f.claim(KeyRange.ALL).compose(seg -> f.copy(seg, false, f.new Control()).compose(r -> {
          ctx.verify(() -> assertEquals(1000, r.rows()));
          return f.engine.targetSum(seg.range()).compose(read -> {
            ctx.verify(() -> assertEquals(new CopyPath.Sum(r.rows(), r.hash()), read, "the read-back hashes as the stream did"));
            return f.string(src, SUM);
          });
        }).compose(source -> f.string(tgt, SUM).map(target -> {
          ctx.verify(() -> assertEquals(source, target, "the tables are equal"));
          return null;
        }))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
