package dev.sluice.verify;

import dev.sluice.inspect.JobShape;
import dev.sluice.ledger.Segment;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sampled reconciliation: a share ({@code verify.sampleRate}) of a segment's source rows, chosen by a
 * hash of the key (the same rows every run), is compared column by column with the target. It also
 * measures data drift over the sample: per target column, the share of NULLs in the target against the
 * share of source rows where a column it is computed from is NULL.
 */
public final class Reconciler {
  private static final Pattern IDENT = Pattern.compile("\"((?:[^\"]|\"\")+)\"|\\b([A-Za-z_][A-Za-z0-9_$]*)\\b");

  private final JobShape shape;
  private final double rate;
  private final double nullThreshold;
  private final RangeSql sql;
  private List<List<String>> inputs;

  public Reconciler(JobShape shape) {
    this.shape = shape;
    this.rate = shape.job().verify().sampleRate();
    this.nullThreshold = shape.job().drift().nullRatioThreshold();
    this.sql = new RangeSql(shape);
  }

  /** One column value that differs. */
  public record Difference(List<String> key, String column, String source, String target) {
    public JsonObject json() {
      return new JsonObject().put("key", Bisector.describe(key)).put("column", column).put("source", source).put("target", target);
    }
  }

  /** What a segment's sample showed. */
  public record Sample(int rows, List<Difference> differences, List<String> nullDrift) {}

  public boolean enabled() {
    return rate > 0;
  }

  public Future<Sample> sample(SqlClient source, SqlClient target, Segment seg) {
    if (!enabled()) return Future.succeededFuture(new Sample(0, List.of(), List.of()));
    return inputs(source).compose(in -> {
      List<String> flat = new ArrayList<>();
      List<int[]> spans = new ArrayList<>();
      for (List<String> cols : in) {
        spans.add(new int[] {flat.size(), cols.size()});
        flat.addAll(cols);
      }
      var p = sql.sourceSample(seg.range(), rate, flat);
      return source.preparedQuery(p.sql()).execute(Tuple.tuple(p.params())).compose(srows -> {
        int width = shape.columns().size();
        List<String[]> src = new ArrayList<>();
        long[] srcNulls = new long[width];
        for (Row r : srows) {
          String[] v = new String[width];
          for (int c = 0; c < width; c++) v[c] = r.getString(c);
          src.add(v);
          for (int c = 0; c < width; c++) {
            int[] span = spans.get(c);
            for (int j = 0; j < span[1]; j++) {
              if (Boolean.TRUE.equals(r.getBoolean(width + span[0] + j))) {
                srcNulls[c]++;
                break;
              }
            }
          }
        }
        if (src.isEmpty()) return Future.succeededFuture(new Sample(0, List.of(), List.of()));
        List<Integer> keyIdx = keyIndexes();
        Tuple t = Tuple.tuple();
        for (int k : keyIdx) {
          String[] col = new String[src.size()];
          for (int i = 0; i < src.size(); i++) col[i] = src.get(i)[k];
          t.addArrayOfString(col);
        }
        return target.preparedQuery(sql.targetByKeys()).execute(t).map(trows -> {
          Map<List<String>, String[]> tgt = new HashMap<>();
          long[] tgtNulls = new long[width];
          for (Row r : trows) {
            String[] v = new String[width];
            for (int c = 0; c < width; c++) {
              v[c] = r.getString(c);
              if (v[c] == null) tgtNulls[c]++;
            }
            tgt.put(key(v, keyIdx), v);
          }
          List<Difference> diffs = new ArrayList<>();
          for (String[] s : src) {
            List<String> key = key(s, keyIdx);
            String[] tv = tgt.get(key);
            for (int c = 0; c < width; c++) {
              String tval = tv == null ? null : tv[c];
              if (tv == null || !Objects.equals(s[c], tval)) {
                diffs.add(new Difference(key, shape.columns().get(c).name(), s[c], tv == null ? "(row missing)" : tval));
                if (tv == null) break;
              }
            }
          }
          List<String> drift = new ArrayList<>();
          for (int c = 0; c < width; c++) {
            if (in.get(c).isEmpty()) continue;
            double sShare = (double) srcNulls[c] / src.size();
            double tShare = (double) tgtNulls[c] / Math.max(1, trows.size());
            if (Math.abs(tShare - sShare) > nullThreshold) {
              drift.add(String.format("column %s is NULL in %.1f%% of sampled target rows against %.1f%% of their source rows "
                  + "(segment %d; threshold %.1f%%)", shape.columns().get(c).name(), tShare * 100, sShare * 100, seg.seq(), nullThreshold * 100));
            }
          }
          return new Sample(src.size(), diffs, drift);
        });
      });
    });
  }

  private List<Integer> keyIndexes() {
    List<Integer> out = new ArrayList<>();
    for (String k : shape.targetKey()) {
      for (int i = 0; i < shape.columns().size(); i++) if (shape.columns().get(i).name().equals(k)) out.add(i);
    }
    return out;
  }

  private static List<String> key(String[] v, List<Integer> idx) {
    List<String> out = new ArrayList<>();
    for (int i : idx) out.add(v[i]);
    return out;
  }

  /** For each target column, the source columns its expression reads (found by name in the catalog). */
  private Future<List<List<String>>> inputs(SqlClient source) {
    if (inputs != null) return Future.succeededFuture(inputs);
    return source.preparedQuery("SELECT attname::text FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped")
        .execute(Tuple.of(shape.job().source().table().sql()))
        .map(rows -> {
          List<String> names = new ArrayList<>();
          for (Row r : rows) names.add(r.getString(0));
          List<List<String>> out = new ArrayList<>();
          for (JobShape.Column c : shape.columns()) {
            List<String> used = new ArrayList<>();
            Matcher m = IDENT.matcher(c.expression());
            while (m.find()) {
              String n = m.group(1) != null ? m.group(1).replace("\"\"", "\"") : m.group(2).toLowerCase();
              if (names.contains(n) && !used.contains(n)) used.add(n);
            }
            out.add(used);
          }
          inputs = out;
          return out;
        });
  }
}
