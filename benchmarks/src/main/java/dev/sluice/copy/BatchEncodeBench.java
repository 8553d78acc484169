package dev.sluice.copy;

import dev.sluice.ledger.Segment;
import dev.sluice.ledger.SegmentState;
import dev.sluice.plan.KeyRange;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The agent's per-batch work between the source page and the target write, on a batch shaped like
 * the benchmark table (bigint key, bigint, text, int, numeric, nullable text, timestamptz): the
 * source packs each column into one array text, so all that is left is {@link Writer#params}
 * (the write's parameter tuple: the fence and seven strings). In package {@code dev.sluice.copy} to
 * reach it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BatchEncodeBench {
  @Param({"5000"})
  public int rows;

  private Batch batch;
  private Segment seg;

  @Setup
  public void setUp() {
    StringBuilder[] cols = new StringBuilder[7];
    for (int c = 0; c < 7; c++) cols[c] = new StringBuilder("{");
    for (long g = 1; g <= rows; g++) {
      String sep = g == 1 ? "" : ",";
      cols[0].append(sep).append(g);
      cols[1].append(sep).append((g * 7919) % 1000003);
      cols[2].append(sep).append("item-").append(Long.toHexString(g * 0x9E3779B97F4A7C15L));
      cols[3].append(sep).append(g % 1000);
      cols[4].append(sep).append(String.format("%.2f", ((g * 37) % 10000000) / 100.0));
      cols[5].append(sep).append(g % 5 == 0 ? "NULL" : "\"note " + Long.toHexString(g * 31) + "\"");
      cols[6].append(sep).append("\"2024-01-01 00:00:").append(g % 60).append("+00\"");
    }
    String[] packed = new String[7];
    for (int c = 0; c < 7; c++) packed[c] = cols[c].append('}').toString();
    batch = new Batch(packed, rows, 0, List.of("1"), List.of(String.valueOf(rows)));
    seg = new Segment("job", 1, KeyRange.ALL, SegmentState.COPYING, rows, 0, 1, null, "agent", 1L);
  }

  @Benchmark
  public Tuple bindPacked() {
    return Writer.params(seg, batch, "agent");
  }
}
