package dev.sluice.verify;

import dev.sluice.config.JobConfig;
import dev.sluice.ledger.Segment;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A job's custom checks: business-rule queries run on both sides for one segment, with the segment's
 * bounds as parameters ($1..$k the lower bound's key values, $k+1..$2k the upper's, as text; NULL
 * when unbounded). Their results, every row and column as text, must be equal.
 */
public final class CustomChecks {
  private static final Pattern PARAM = Pattern.compile("\\$(\\d+)");

  private final List<JobConfig.Check> checks;
  private final int keyColumns;

  public CustomChecks(List<JobConfig.Check> checks, int keyColumns) {
    this.checks = checks;
    this.keyColumns = keyColumns;
  }

  /** A check whose two sides disagreed on a segment. */
  public record Difference(String check, int segment, String source, String target) {
    public String describe() {
      return "check " + check + " differs on segment " + segment + ": source " + source + ", target " + target;
    }
  }

  public Future<List<Difference>> run(SqlClient source, SqlClient target, Segment seg) {
    List<Difference> out = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (JobConfig.Check c : checks) {
      chain = chain.compose(v -> eval(source, c.source(), seg).compose(s -> eval(target, c.target(), seg).map(t -> {
        if (!s.equals(t)) out.add(new Difference(c.name(), seg.seq(), s, t));
        return null;
      })));
    }
    return chain.map(out);
  }

  private Future<String> eval(SqlClient db, String sql, Segment seg) {
    List<Object> all = new ArrayList<>();
    for (int i = 0; i < keyColumns; i++) all.add(seg.range().lower() == null ? null : seg.range().lower().get(i));
    for (int i = 0; i < keyColumns; i++) all.add(seg.range().upper() == null ? null : seg.range().upper().get(i));
    // Bind exactly the parameters the query uses: the server refuses extra ones.
    int used = 0;
    Matcher m = PARAM.matcher(sql);
    while (m.find()) used = Math.max(used, Integer.parseInt(m.group(1)));
    Tuple t = Tuple.tuple();
    for (int i = 0; i < Math.min(used, all.size()); i++) t.addValue(all.get(i));
    return db.preparedQuery(sql).execute(t).map(CustomChecks::text);
  }

  private static String text(RowSet<Row> rows) {
    List<String> out = new ArrayList<>();
    for (Row r : rows) {
      List<String> vals = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) vals.add(String.valueOf(r.getValue(i)));
      out.add(vals.size() == 1 ? vals.get(0) : "(" + String.join(", ", vals) + ")");
    }
    return out.size() == 1 ? out.get(0) : out.toString();
  }
}
