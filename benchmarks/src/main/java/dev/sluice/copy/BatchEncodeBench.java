package dev.sluice.copy;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.internal.ArrayTuple;
import java.util.ArrayList;
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
 * The agent's per-batch work between the source cursor and the target upsert, on rows shaped like
 * the benchmark table (bigint key, bigint, text, int, numeric, nullable text, timestamptz, then the
 * row hash): {@link Reader#encode} (rows into typed column arrays, hash sum, key span) and
 * {@link Writer#bind} (the upsert's parameter tuple). In package {@code dev.sluice.copy} to reach them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BatchEncodeBench {
  private static final ColumnKind[] KINDS = {
    ColumnKind.LONG, ColumnKind.LONG, ColumnKind.TEXT, ColumnKind.INT, ColumnKind.TEXT, ColumnKind.TEXT, ColumnKind.TEXT
  };
  private static final ColumnKind[] ALL_TEXT = {
    ColumnKind.TEXT, ColumnKind.TEXT, ColumnKind.TEXT, ColumnKind.TEXT, ColumnKind.TEXT, ColumnKind.TEXT, ColumnKind.TEXT
  };

  @Param({"5000"})
  public int rows;

  private List<Row> typed;
  private List<Row> text;
  private Batch typedBatch;
  private Batch textBatch;

  /** A decoded row as the pg client hands it over: values by position. */
  static final class BenchRow extends ArrayTuple implements Row {
    BenchRow(int n) {
      super(n);
    }

    @Override
    public String getColumnName(int pos) {
      return "c" + pos;
    }

    @Override
    public int getColumnIndex(String name) {
      return Integer.parseInt(name.substring(1));
    }
  }

  @Setup
  public void setUp() {
    typed = new ArrayList<>(rows);
    text = new ArrayList<>(rows);
    for (long g = 1; g <= rows; g++) {
      Object[] v = {
        g, (g * 7919) % 1000003, "item-" + Long.toHexString(g * 0x9E3779B97F4A7C15L), (int) (g % 1000),
        String.format("%.2f", ((g * 37) % 10000000) / 100.0), g % 5 == 0 ? null : "note " + Long.toHexString(g * 31),
        "2024-01-01 00:00:" + (g % 60) + "+00", g * 0x9E3779B97F4A7C15L
      };
      BenchRow t = new BenchRow(8);
      BenchRow s = new BenchRow(8);
      for (int c = 0; c < 8; c++) {
        t.addValue(v[c]);
        s.addValue(c < 7 && v[c] != null && KINDS[c] != ColumnKind.TEXT ? v[c].toString() : v[c]);
      }
      typed.add(t);
      text.add(s);
    }
    typedBatch = encodeTyped();
    textBatch = encodeText();
  }

  @Benchmark
  public Batch encodeTyped() {
    return Reader.encode(KINDS, new int[] {0}, typed, rows);
  }

  @Benchmark
  public Batch encodeText() {
    return Reader.encode(ALL_TEXT, new int[] {0}, text, rows);
  }

  @Benchmark
  public Tuple bindTyped() {
    Tuple t = Tuple.of("job", 1, "agent", 1L);
    Writer.bind(t, KINDS, typedBatch);
    return t;
  }

  @Benchmark
  public Tuple bindText() {
    Tuple t = Tuple.of("job", 1, "agent", 1L);
    Writer.bind(t, ALL_TEXT, textBatch);
    return t;
  }
}
