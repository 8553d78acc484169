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

/**
 * Every metric the docs, the Grafana dashboard, the alert rules and their unit tests name exists in a
 * live scrape of an agent running every feature (all sensor kinds, change capture, the read API and its
 * cache, a watched config), with every label they select on (and, where they compare a label with a
 * literal value, a series with that value). Also: no Sluice series carries a {@code job} label (Prometheus
 * would rename it {@code exported_job}), pool names are fixed (the same at every start), and the build and
 * the databases' breakers are exported.
 */
class MetricNamesTest {
  private static final Path ROOT = Path.of(System.getProperty("user.dir")).resolve("..").normalize();
  private static final String PREFIXES = "sluice|vertx|jvm|process|cache|system";
  /** A metric name in prose, maybe a prefix ({@code vertx_http_server_*}), maybe with labels ({@code {state}}). */
  private static final Pattern DOC_NAME = Pattern.compile("\\b((?:" + PREFIXES + ")(?:_[a-z0-9]+)*)(_?\\*)?(\\{[^}\\n]*})?(_?<)?");
  private static final Pattern PROMQL_NAME = Pattern.compile("(?<![\\w$.])((?:" + PREFIXES + ")_[a-zA-Z0-9_]*)(\\s*\\{[^}]*})?");
  private static final Pattern MATCHER = Pattern.compile("(\\w+)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  /** Words of the prefixes above that are not metrics: the job label, and a trigger's name in production.md. */
  private static final Set<String> NOT_METRICS = Set.of("sluice_job", "sluice_capture_orders_ins");
  private static final Set<String> POOLS = Set.of("sluice-source", "sluice-target", "sluice-ledger", "sluice-reads-source",
      "sluice-reads-target");
  /** Vert.x's own worker pools, and the COPY workers of the job (named for it). */
  private static final Set<String> WORKER_POOLS = Set.of("vert.x-worker-thread", "vert.x-internal-blocking", "sluice-copy-items");
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
    mentions.addAll(fromRules(ROOT.resolve("deploy/prometheus/sluice-alerts.yml"), "expr:"));
    mentions.addAll(fromRules(ROOT.resolve("deploy/prometheus/sluice-alerts.test.yml"), "series:"));
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
        if (label.equals("instance")) return; // added by Prometheus
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
    return out;
  }

  private static List<Mention> fromDashboard(Path file) throws Exception {
    List<Mention> out = new ArrayList<>();
    walk(JSON.readTree(Files.readString(file)), (key, text) -> {
      if (key.equals("expr") || key.equals("query") || key.equals("definition")) out.addAll(fromPromQl(text, ROOT.relativize(file) + " " + key));
    });
    return out;
  }

  private static void walk(JsonNode node, java.util.function.BiConsumer<String, String> visit) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> {
        if (e.getValue().isTextual()) visit.accept(e.getKey(), e.getValue().asText());
        else walk(e.getValue(), visit);
      });
    } else if (node.isArray()) {
      node.forEach(n -> walk(n, visit));
    }
  }

  /** The rules' expressions (single or multi-line) or the unit tests' input series. */
  private static List<Mention> fromRules(Path file, String field) throws Exception {
    List<Mention> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(file);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip().replaceFirst("^- ", "");
      if (!line.startsWith(field)) continue;
      StringBuilder expr = new StringBuilder(line.substring(field.length()).strip());
      if (expr.toString().equals("|")) {
        expr.setLength(0);
        int indent = lines.get(i + 1).length() - lines.get(i + 1).stripLeading().length();
        while (i + 1 < lines.size() && lines.get(i + 1).length() - lines.get(i + 1).stripLeading().length() >= indent
            && !lines.get(i + 1).isBlank()) {
          expr.append(lines.get(++i).strip()).append('\n');
        }
      }
      String text = expr.toString().replaceAll("^'(.*)'$", "$1");
      out.addAll(fromPromQl(text, ROOT.relativize(file) + ":" + (i + 1)));
    }
    return out;
  }

  /**
   * Metric names in PromQL and the label matchers of their selectors; grouping clauses ({@code by (..)},
   * {@code on (..)}) and string literals are not names.
   */
  static List<Mention> fromPromQl(String expr, String where) {
    String e = expr.replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    // label_values(metric, label): the second argument is a label.
    e = e.replaceAll("label_values\\(\\s*([\\w:]+)\\s*,\\s*\\w+\\s*\\)", "$1");
    List<Mention> out = new ArrayList<>();
    Matcher m = PROMQL_NAME.matcher(e);
    while (m.find()) {
      if (NOT_METRICS.contains(m.group(1))) continue;
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher lm = MATCHER.matcher(m.group(2));
        while (lm.find()) labels.put(lm.group(1), lm.group(2).equals("=") && !lm.group(3).contains("$") ? lm.group(3) : null);
      }
      out.add(new Mention(m.group(1), false, labels, where));
    }
    return out;
  }
}
