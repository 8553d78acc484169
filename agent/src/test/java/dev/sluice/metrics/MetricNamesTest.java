package dev.sluice.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.agent.Agent;
import dev.sluice.build.BuildInfo;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Http;
import dev.sluice.testing.TestPg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Every metric the docs, the Grafana dashboard, the alert rules and their unit tests name exists in a
 * live scrape of an agent running every feature (all sensor kinds, change capture, the read API and its
 * cache, a watched config), with every label they select on (and, where they compare a label with a
 * literal value, a series with that value). The labels they group by ({@code by}, {@code without},
 * {@code on}, {@code ignoring}, {@code group_left/right}), list ({@code label_values(m, L)}), show in a
 * legend ({@code {{L}}}) or in an alert's text ({@code $labels.L}) must be on the metrics of that
 * expression too, except the labels Prometheus adds from the scrape target ({@link #TARGET_LABELS}); and
 * {@code job}, the scrape job's, on a Sluice series is reported: Sluice's job is {@code sluice_job}
 * ({@code max by (job)} grouped every Sluice job together). Also: no Sluice series carries a {@code job}
 * label (Prometheus would rename it {@code exported_job}), pool names are fixed (the same at every start),
 * and the build and the databases' breakers are exported.
 */
class MetricNamesTest {
  private static final Path ROOT = Path.of(System.getProperty("user.dir")).resolve("..").normalize();
  private static final String PREFIXES = "sluice|vertx|jvm|process|cache|system";
  /** A metric name in prose, maybe a prefix ({@code vertx_http_server_*}), maybe with labels ({@code {state}}). */
  private static final Pattern DOC_NAME = Pattern.compile("\\b((?:" + PREFIXES + ")(?:_[a-z0-9]+)*)(_?\\*)?(\\{[^}\\n]*})?(_?<)?");
  private static final Pattern PROMQL_NAME = Pattern.compile("(?<![\\w$.])((?:" + PREFIXES + ")_[a-zA-Z0-9_]*)(\\s*\\{[^}]*})?");
  private static final Pattern MATCHER = Pattern.compile("(\\w+)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  /**
   * Words of the prefixes above that are not metrics: the job label, a trigger's name in production.md,
   * and the example job's publication and slot ({@code sluice_orders}) in production.md and consistency.md.
   */
  private static final Set<String> NOT_METRICS = Set.of("sluice_job", "sluice_capture_orders_ins", "sluice_orders");
  /** Added by Prometheus to every scraped series from its target (never in the exposition). */
  static final Set<String> TARGET_LABELS = Set.of("instance", "job");
  private static final Pattern GROUPING = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
  private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([\\w:]+)\\s*,\\s*(\\w+)\\s*\\)");
  /** PromQL's aggregations, functions and keywords: what is left of an expression without a metric. */
  private static final Pattern OPERATORS = Pattern.compile("\\b(sum|min|max|avg|count|stddev|stdvar|quantile|topk|bottomk|group|rate|irate|"
      + "increase|delta|deriv|abs|absent|clamp_min|clamp_max|histogram_quantile|and|or|unless|bool|offset)\\b");
  private static final Pattern LEGEND_LABEL = Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}");
  private static final Pattern ALERT_LABEL = Pattern.compile("\\$labels\\.(\\w+)");
  /** PromQL in the docs: an inline code span or a promql block that groups or lists label values. */
  private static final Pattern DOC_PROMQL = Pattern.compile("```promql\\n(.*?)```|`([^`\\n]+)`", Pattern.DOTALL);
  private static final Set<String> POOLS = Set.of("sluice-source", "sluice-target", "sluice-ledger", "sluice-reads-source",
      "sluice-reads-target", "sluice-applier-source", "sluice-applier-target", "sluice-verify-source", "sluice-verify-target");
  /** Vert.x's own worker pools, and the COPY workers of the job (named for it). */
  private static final Set<String> WORKER_POOLS = Set.of("vert.x-worker-thread", "vert.x-internal-blocking", "sluice-copy-items",
      "sluice-probe-source", "sluice-probe-target");
  private static final ObjectMapper JSON = new ObjectMapper();
  private final TestPg pg = TestPg.get();

  /** One mention: a metric name (or a prefix) and the label matchers next to it, and where it was found. */
  record Mention(String name, boolean prefix, Map<String, String> labels, String where) {}

  @Test
  void everyNameTheDocsDashboardAndAlertsUseExistsInALiveScrape() throws Exception {
    List<Mention> mentions = new ArrayList<>();
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      for (Path p : docs.filter(f -> f.toString().endsWith(".md")).sorted().toList()) mentions.addAll(fromProse(p));
    }
    mentions.addAll(fromProse(ROOT.resolve("README.md")));
    mentions.addAll(fromDashboard(ROOT.resolve("deploy/grafana/sluice-dashboard.json")));
    mentions.addAll(fromRules(ROOT.resolve("deploy/prometheus/sluice-alerts.yml")));
    mentions.addAll(fromRuleTests(ROOT.resolve("deploy/prometheus/sluice-alerts.test.yml")));
    assertTrue(mentions.stream().filter(m -> m.where().contains("grafana")).count() >= 20, "the dashboard's queries were read");
    assertTrue(mentions.stream().filter(m -> m.where().contains("sluice-alerts.yml")).count() >= 9, "the rules were read");

    String src = pg.createDatabase("namessrc");
    String tgt = pg.createDatabase("namestgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3000) g");
    Agent agent = Agents.start("""
        {"source": {"url": "%s"}, "target": {"url": "%s"},
         "http": {"port": 0, "token": "names-token-0123456789", "readToken": "names-read-token-0123456789"},
         "health": {"probe": {"maxMs": 60000}, "replicationLag": {"maxSeconds": 3600}, "activeBackends": {"max": 10000},
                    "lockWaiters": {"max": 10000}, "oldestTransaction": {"maxSeconds": 86400}, "walRetained": {"maxMegabytes": 1000000},
                    "loadAverage": {"max": 100000}},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
                   "segment": {"rows": 1000}, "capture": {"pollMs": 100}, "cache": {"warm": "first", "warmFirstRows": 10},
                   "reads": {"targetPercent": 0}}]}""".formatted(pg.url(src), pg.url(tgt)));
    try {
      String base = "http://127.0.0.1:" + agent.httpPort();
      Http.get(base + "/api/jobs");
      Map<String, Double> series = Map.of();
      List<String> missing = List.of();
      String text = "";
      // Some series appear as their feature starts (capture's backlog, the cache): up to a minute on a loaded machine.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        text = Http.get(base + "/metrics").body();
        series = Exposition.parse(text);
        missing = missingFrom(text, series, mentions);
        if (missing.isEmpty()) break;
        Thread.sleep(250);
      }
      Path out = Path.of("target", "metrics-all-features.prom");
      Files.writeString(out, text);
      assertEquals(List.of(), missing, "named in docs/, the dashboard or the alert rules, absent from a live scrape (" + out + ")");
      MetricsExpositionTest.promtool(out);

      Map<String, Set<String>> pools = new TreeMap<>();
      for (String key : series.keySet()) {
        String name = key.contains("{") ? key.substring(0, key.indexOf('{')) : key;
        Map<String, String> labels = labels(key);
        if (name.startsWith("sluice_")) assertFalse(labels.containsKey("job"), "no job label on Sluice series (Prometheus renames it): " + key);
        if (name.startsWith("vertx_pool_")) {
          String pool = labels.get("pool_name");
          assertTrue(POOLS.contains(pool) || WORKER_POOLS.contains(pool), key + ": pool names are fixed (the same at every start)");
          if ("sql".equals(labels.get("pool_type"))) pools.computeIfAbsent(name, n -> new TreeSet<>()).add(pool);
        }
      }
      assertEquals(POOLS, pools.get("vertx_pool_in_use"), "every SQL pool, by its fixed name");
      BuildInfo build = BuildInfo.CURRENT;
      assertEquals(1.0, series.get("sluice_build_info{commit=\"" + build.commit() + "\",version=\"" + build.version() + "\"}"));
      assertEquals(1.0, series.get("sluice_database_up{database=\"source\"}"));
      assertEquals(1.0, series.get("sluice_database_breaker_state{database=\"target\",state=\"closed\"}"));
      assertEquals(0.0, series.get("sluice_database_breaker_state{database=\"target\",state=\"open\"}"));
      // Base units: the probe's threshold (60000 ms) in seconds, WAL retained's (1000000 MB) in bytes.
      assertEquals(60.0, series.get("sluice_sensor_probe_threshold_seconds{database=\"source\",sluice_job=\"items\"}"));
      assertEquals(1e6 * 1024 * 1024, series.get("sluice_sensor_wal_retained_threshold_bytes{database=\"source\",sluice_job=\"items\"}"));
      assertEquals(100000.0, series.get("sluice_sensor_load_average_threshold{database=\"host\",sluice_job=\"items\"}"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }

  @Test
  void labelsGroupedByListedOrShownMustBeOnTheExpressionsMetrics() {
    String text = "# TYPE sluice_segments gauge\nsluice_segments{sluice_job=\"a\",state=\"failed\"} 1\n";
    Map<String, Double> series = Exposition.parse(text);
    java.util.function.BiFunction<String, Set<String>, List<String>> check = (expr, shown) -> missingFrom(text, series, fromPromQl(expr, "t", shown));
    assertEquals(List.of(), check.apply("max by (sluice_job, state) (sluice_segments{state=\"failed\"})", Set.of("sluice_job")));
    assertEquals(List.of(), check.apply("min by (instance) (sluice_segments) and on (sluice_job) sluice_segments", Set.of("instance")));
    assertEquals(List.of(), check.apply("max by (sluice_job) (...)", Set.of()), "prose: about Sluice's series");
    assertEquals(List.of(), check.apply("max by (job) (up)", Set.of()), "the scrape job's label on Prometheus's own series");
    assertEquals(List.of(), check.apply("label_values(sluice_segments, state)", Set.of()));
    for (String wrong : List.of("max by (job) (sluice_segments)", "max by (job) (...)", "sum without (job) (sluice_segments)")) {
      List<String> missing = check.apply(wrong, Set.of());
      assertEquals(1, missing.size(), wrong + ": " + missing);
      assertTrue(missing.get(0).contains("by job: that is Prometheus's scrape job"), missing.get(0));
    }
    assertEquals(List.of("sluice_segments has no label database (t)"), check.apply("sluice_segments", Set.of("database")), "{{database}}, $labels.database");
    assertEquals(List.of("sluice_segments has no label reason (t)"), check.apply("max by (reason) (sluice_segments)", Set.of()));
    assertEquals(List.of("sluice_segments has no label database (t)"), check.apply("label_values(sluice_segments, database)", Set.of()));
    assertEquals(List.of("sluice_segments has no label x (t)"), check.apply("a / ignoring (x) group_left sluice_segments", Set.of()));
  }

  /** What the scrape lacks: a name (or prefix), a label, or a series with a label's literal value. */
  private static List<String> missingFrom(String text, Map<String, Double> series, List<Mention> mentions) {
    Map<String, List<Map<String, String>>> byName = new LinkedHashMap<>();
    for (String key : series.keySet()) {
      byName.computeIfAbsent(key.contains("{") ? key.substring(0, key.indexOf('{')) : key, n -> new ArrayList<>()).add(labels(key));
    }
    // Families by their TYPE line too: a histogram is named without its _bucket/_count/_sum.
    Matcher type = Pattern.compile("(?m)^# TYPE (\\S+) \\S+$").matcher(text);
    Map<String, List<Map<String, String>>> families = new LinkedHashMap<>();
    while (type.find()) {
      String family = type.group(1);
      List<Map<String, String>> all = new ArrayList<>();
      byName.forEach((n, l) -> {
        if (n.equals(family) || n.startsWith(family + "_")) all.addAll(l);
      });
      families.put(family, all);
    }
    List<String> missing = new ArrayList<>();
    for (Mention m : mentions) {
      List<Map<String, String>> found = new ArrayList<>();
      for (var names : List.of(byName, families)) {
        names.forEach((n, l) -> {
          if (m.prefix() ? n.startsWith(m.name()) : n.equals(m.name())) found.addAll(l);
        });
      }
      if (found.isEmpty()) {
        missing.add(m.name() + (m.prefix() ? "*" : "") + " (" + m.where() + ")");
        continue;
      }
      m.labels().forEach((label, literal) -> {
        if (TARGET_LABELS.contains(label)) {
          if (label.equals("job") && m.name().startsWith("sluice_")) {
            missing.add(m.name() + (m.prefix() ? "*" : "") + " by job: that is Prometheus's scrape job (the same for every Sluice job); "
                + "Sluice's job label is sluice_job (" + m.where() + ")");
          }
          return;
        }
        String value = label.equals("sluice_job") ? null : literal; // the user's job names (the rules' tests use their own)
        if (found.stream().noneMatch(l -> l.containsKey(label))) {
          missing.add(m.name() + " has no label " + label + " (" + m.where() + ")");
        } else if (value != null && found.stream().noneMatch(l -> value.equals(l.get(label)))) {
          missing.add(m.name() + "{" + label + "=\"" + value + "\"} (" + m.where() + ")");
        }
      });
    }
    return missing;
  }

  private static Map<String, String> labels(String key) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!key.contains("{")) return out;
    Matcher l = MATCHER.matcher(key.substring(key.indexOf('{')));
    while (l.find()) out.put(l.group(1), l.group(3));
    return out;
  }

  /** Prose: {@code sluice_segments{state}}, {@code sluice_throttled{reason="lock"}}, {@code vertx_http_server_*}. */
  private static List<Mention> fromProse(Path file) throws Exception {
    List<Mention> out = new ArrayList<>();
    Matcher m = DOC_NAME.matcher(Files.readString(file));
    while (m.find()) {
      // sluice_changes_<job>: a name pattern, not a metric; "cache" or "process" alone: a word.
      if (NOT_METRICS.contains(m.group(1)) || m.group(4) != null || (m.group(2) == null && !m.group(1).contains("_"))) continue;
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null) {
        for (String part : m.group(3).substring(1, m.group(3).length() - 1).split(",")) {
          Matcher lm = MATCHER.matcher(part);
          if (lm.find()) labels.put(lm.group(1), lm.group(2).equals("=") && !lm.group(3).contains("|") ? lm.group(3) : null);
          else if (part.strip().matches("\\w+")) labels.put(part.strip(), null);
        }
      }
      boolean prefix = m.group(2) != null;
      String name = prefix && m.group(2).startsWith("_") ? m.group(1) + "_" : m.group(1);
      out.add(new Mention(name, prefix, labels, ROOT.relativize(file).toString()));
    }
    Matcher code = DOC_PROMQL.matcher(Files.readString(file));
    while (code.find()) {
      String promql = code.group(1) != null ? code.group(1) : code.group(2);
      if (GROUPING.matcher(promql).find() || LABEL_VALUES.matcher(promql).find()) {
        out.addAll(fromPromQl(promql, ROOT.relativize(file) + " `" + promql.strip() + "`", Set.of()));
      }
    }
    return out;
  }

  private static List<Mention> fromDashboard(Path file) throws Exception {
    List<Mention> out = new ArrayList<>();
    targets(JSON.readTree(Files.readString(file)), ROOT.relativize(file).toString(), out);
    return out;
  }

  /** Every query (a panel's, with the labels its legend shows; a variable's) in a dashboard's JSON. */
  private static void targets(JsonNode node, String where, List<Mention> out) {
    if (node.isObject()) {
      Set<String> legend = found(LEGEND_LABEL, node.path("legendFormat").asText(""));
      node.fields().forEachRemaining(e -> {
        String key = e.getKey();
        if (!e.getValue().isTextual()) targets(e.getValue(), where, out);
        else if (key.equals("expr")) out.addAll(fromPromQl(e.getValue().asText(), where + " expr", legend));
        else if (key.equals("query") || key.equals("definition")) out.addAll(fromPromQl(e.getValue().asText(), where + " " + key, Set.of()));
      });
    } else if (node.isArray()) {
      node.forEach(n -> targets(n, where, out));
    }
  }

  private static Set<String> found(Pattern p, String text) {
    Set<String> out = new TreeSet<>();
    Matcher m = p.matcher(text);
    while (m.find()) out.add(m.group(m.groupCount()));
    return out;
  }

  /** Each alert's expression, with the labels its annotations and labels show ({@code $labels.L}). */
  @SuppressWarnings("unchecked")
  private static List<Mention> fromRules(Path file) throws Exception {
    List<Mention> out = new ArrayList<>();
    Map<String, Object> doc = new Yaml(new LoaderOptions()).load(Files.readString(file));
    for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        Set<String> shown = new TreeSet<>();
        for (String part : List.of("annotations", "labels")) {
          ((Map<String, Object>) rule.getOrDefault(part, Map.of())).values().forEach(v -> shown.addAll(found(ALERT_LABEL, v.toString())));
        }
        String name = String.valueOf(rule.getOrDefault("alert", rule.get("record")));
        out.addAll(fromPromQl(rule.get("expr").toString(), ROOT.relativize(file) + " " + name, shown));
      }
    }
    return out;
  }

  /** The unit tests' input series. */
  @SuppressWarnings("unchecked")
  private static List<Mention> fromRuleTests(Path file) throws Exception {
    List<Mention> out = new ArrayList<>();
    Map<String, Object> doc = new Yaml(new LoaderOptions()).load(Files.readString(file));
    for (Map<String, Object> test : (List<Map<String, Object>>) doc.get("tests")) {
      for (Map<String, Object> series : (List<Map<String, Object>>) test.get("input_series")) {
        out.addAll(fromPromQl(series.get("series").toString(), ROOT.relativize(file) + " " + test.get("name"), Set.of()));
      }
    }
    return out;
  }

  /**
   * Metric names in PromQL and the label matchers of their selectors; each metric of the expression also
   * needs the labels it groups by, the {@code shown} ones (a legend's, an alert's text), and the label its
   * {@code label_values(metric, label)} lists. Grouping clauses and string literals are not names. An
   * expression without a metric (prose: {@code max by (sluice_job) (...)}) is about Sluice's series.
   */
  static List<Mention> fromPromQl(String expr, String where, Set<String> shown) {
    Set<String> grouped = new TreeSet<>(shown);
    Matcher g = GROUPING.matcher(expr);
    while (g.find()) {
      for (String l : g.group(2).split(",")) if (!l.isBlank()) grouped.add(l.strip());
    }
    Map<String, String> listed = new LinkedHashMap<>();
    Matcher lv = LABEL_VALUES.matcher(expr);
    while (lv.find()) listed.put(lv.group(1), lv.group(2));
    String e = GROUPING.matcher(expr).replaceAll(" ");
    e = LABEL_VALUES.matcher(e).replaceAll("$1");
    List<Mention> out = new ArrayList<>();
    Matcher m = PROMQL_NAME.matcher(e);
    while (m.find()) {
      if (NOT_METRICS.contains(m.group(1))) continue;
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher lm = MATCHER.matcher(m.group(2));
        while (lm.find()) labels.put(lm.group(1), lm.group(2).equals("=") && !lm.group(3).contains("$") ? lm.group(3) : null);
      }
      grouped.forEach(l -> labels.putIfAbsent(l, null));
      if (listed.containsKey(m.group(1))) labels.putIfAbsent(listed.get(m.group(1)), null);
      out.add(new Mention(m.group(1), false, labels, where));
    }
    if (out.isEmpty() && !grouped.isEmpty() && !OPERATORS.matcher(e.replaceAll("\"[^\"]*\"|\\[[^\\]]*\\]", " ")).replaceAll(" ").matches("(?s).*[a-zA-Z_:].*")) {
      Map<String, String> labels = new LinkedHashMap<>();
      grouped.forEach(l -> labels.put(l, null));
      out.add(new Mention("sluice_", true, labels, where));
    }
    return out;
  }
}
