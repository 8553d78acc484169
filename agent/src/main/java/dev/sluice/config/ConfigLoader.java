package dev.sluice.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Reads a JSON config and checks everything that can be checked without a database: structure,
 * unknown fields, value ranges, environment variables, URLs, names. Every problem is reported with
 * its JSON path. Database-level checks (tables, keys, columns) are {@code inspect.JobInspector}'s.
 */
public final class ConfigLoader {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private ConfigLoader() {}

  public static SluiceConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("", "config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("", "cannot read config file " + file + ": " + e.getMessage());
    }
    return parse(text);
  }

  public static SluiceConfig parse(String text) {
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonParseException e) {
      var loc = e.getLocation();
      throw new ConfigException(jsonPath(e), "invalid JSON at line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ": "
          + plain(e.getOriginalMessage()));
    } catch (JsonProcessingException e) {
      throw new ConfigException("", "invalid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ConfigException("", "the config must be a JSON object");
    }
    List<ConfigProblem> problems = new ArrayList<>();
    SluiceConfig config = read(new ConfigNode(root, "", problems), problems);
    if (!problems.isEmpty()) throw new ConfigException(problems);
    return config;
  }

  /**
   * Jackson's message with its locations as this page writes them: "(for Object starting at [Source:
   * REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 5, column: 13])" becomes
   * "(for Object starting at line 5, column 13)".
   */
  static String plain(String message) {
    return message == null ? "" : message.replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
  }

  /** Where in the document the parser was when it gave up, as a config path ({@code jobs[0].segment}). */
  private static String jsonPath(JsonParseException e) {
    JsonParser p = e.getProcessor();
    if (p == null || p.getParsingContext() == null) return "";
    StringBuilder out = new StringBuilder();
    for (var ptr = p.getParsingContext().pathAsPointer(); ptr != null && !ptr.matches(); ptr = ptr.tail()) {
      if (ptr.mayMatchElement()) {
        out.append('[').append(ptr.getMatchingIndex()).append(']');
      } else {
        if (out.length() > 0) out.append('.');
        out.append(ptr.getMatchingProperty());
      }
    }
    return out.toString();
  }

  private static SluiceConfig read(ConfigNode root, List<ConfigProblem> problems) {
    root.string("$schema", null, false); // for editors: the schema's address, not read
    DatabaseConfig source = DatabaseSection.read(root.object("source", true));
    DatabaseConfig target = DatabaseSection.read(root.object("target", true));
    HttpConfig http = http(root.object("http", false));
    AgentConfig agent = agent(root.object("agent", false));
    boolean sameServer = source != null && target != null && source.sameServerAs(target);
    HealthConfig health = PacingConfigLoader.health(root.object("health", false), sameServer);
    BreakerConfig breaker = PacingConfigLoader.breaker(root.object("breaker", false));
    SessionLimits sessions = PacingConfigLoader.sessions(root.object("sessions", false));
    NotifyConfig notify = NotifySections.notify(root.object("notify", false));
    List<JobConfig> jobs = new ArrayList<>();
    List<ConfigNode> jobNodes = root.objects("jobs", true);
    if (jobNodes.isEmpty() && root.has("jobs")) root.problem("jobs", "must list at least one job");
    Set<String> names = new HashSet<>();
    Set<String> targets = new HashSet<>();
    for (ConfigNode j : jobNodes) {
      JobConfig job = job(j);
      if (job == null) continue;
      if (!names.add(job.name())) j.problem("name", "duplicate job name \"" + job.name() + "\"");
      if (job.target().table() != null && !targets.add(job.target().table().toString())) {
        j.problem("target.table", "another job already writes " + job.target().table());
      }
      if (job.mode() == JobConfig.CopyMode.SERVER && source != null && target != null && !source.sameDatabaseAs(target)) {
        j.problem("mode", "\"server\" needs source and target in the same database");
      }
      jobs.add(job);
    }
    root.rejectUnknown();
    return new SluiceConfig(source, target, http, agent, List.copyOf(jobs), health, breaker, sessions, notify);
  }

  /** Hides the password of a URL for messages. */
  public static String redact(String url) {
    return Secrets.url(url);
  }

  private static HttpConfig http(ConfigNode n) {
    boolean enabled = n.bool("enabled", true);
    String host = n.string("host", HttpConfig.DEFAULT_HOST, false);
    int port = n.integer("port", (long) HttpConfig.DEFAULT_PORT, 0, 65535).intValue();
    String token = n.string("token", null, false);
    if (token == null) token = Env.get("SLUICE_TOKEN");
    if (token != null && token.isEmpty()) token = null;
    if (token != null && token.length() < 16) n.problem("token", "must be at least 16 characters");
    String readToken = n.string("readToken", null, false);
    if (readToken == null) readToken = Env.get("SLUICE_READ_TOKEN");
    if (readToken != null && readToken.isEmpty()) readToken = null;
    if (readToken != null && readToken.length() < 16) n.problem("readToken", "must be at least 16 characters");
    if (readToken != null && readToken.equals(token)) n.problem("readToken", "must differ from token (readers must not be able to control jobs)");
    int maxBody = n.integer("maxBodyBytes", (long) HttpConfig.DEFAULT_MAX_BODY_BYTES, 1024, 16 * 1024 * 1024).intValue();
    List<String> cors = n.strings("corsOrigins", false);
    for (int i = 0; i < cors.size(); i++) {
      if (!cors.get(i).matches("https?://[^/\\s]+")) {
        n.problem("corsOrigins[" + i + "]", "must be an origin like https://ops.example.com (scheme and host, no path)");
      }
    }
    int readTimeout = n.integer("readTimeoutMs", (long) HttpConfig.DEFAULT_READ_TIMEOUT_MS, 100, 600_000).intValue();
    n.rejectUnknown();
    return new HttpConfig(enabled, host, port, token, readToken, maxBody, List.copyOf(cors), readTimeout);
  }

  private static AgentConfig agent(ConfigNode n) {
    String id = n.string("id", null, false);
    long lease = n.integer("leaseSeconds", AgentConfig.DEFAULT_LEASE_SECONDS, 2, 3600);
    long heartbeat = n.integer("heartbeatSeconds", AgentConfig.DEFAULT_HEARTBEAT_SECONDS, 1, 600);
    if (heartbeat * 2 > lease) n.problem("heartbeatSeconds", "must be at most half of leaseSeconds (" + lease + ")");
    n.rejectUnknown();
    if (id == null) id = defaultAgentId();
    return new AgentConfig(id, Duration.ofSeconds(lease), Duration.ofSeconds(heartbeat));
  }

  private static String defaultAgentId() {
    return hostName() + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * This machine's host name, looked up once per process (a lookup can block on DNS for seconds: a
   * reload must not repeat it), or "agent" when it cannot be found. Call from a thread that may block.
   */
  public static String hostName() {
    return HostName.VALUE;
  }

  private static final class HostName {
    static final String VALUE = lookUp();

    private static String lookUp() {
      try {
        return java.net.InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        return "agent";
      }
    }
  }

  private static JobConfig job(ConfigNode n) {
    String name = n.string("name", null, true);
    if (name != null && !JobConfig.NAME.matcher(name).matches()) {
      n.problem("name", "must match [a-z][a-z0-9_]{0,39} (got \"" + name + "\")");
    }
    ConfigNode s = n.object("source", true);
    TableName sourceTable = table(s, "table");
    List<String> key = s.strings("key", true);
    if (key.isEmpty() && s.has("key")) s.problem("key", "must name at least one column");
    if (new HashSet<>(key).size() != key.size()) s.problem("key", "lists a column twice");
    String where = s.string("where", null, false);
    if (where != null && where.isBlank()) where = null;
    String whereProblem = where == null ? null : SqlFragment.problem(where);
    if (whereProblem != null) s.problem("where", "is not a valid condition: it " + whereProblem);
    s.rejectUnknown();

    ConfigNode t = n.object("target", true);
    TableName targetTable = table(t, "table");
    boolean create = t.bool("create", false);
    t.rejectUnknown();

    Map<String, String> columns = n.stringMap("columns");
    if (columns != null && columns.isEmpty()) n.problem("columns", "must map at least one column (or be left out to copy all columns)");
    if (columns != null) {
      columns.forEach((column, expression) -> {
        String problem = SqlFragment.problem(expression);
        if (problem != null) n.problem("columns." + column, "is not valid: it " + problem);
      });
    }

    ConfigNode seg = n.object("segment", false);
    long segmentRows = seg.integer("rows", JobConfig.DEFAULT_SEGMENT_ROWS, 1, 100_000_000);
    long segmentMaxSeconds = seg.integer("maxSeconds", JobConfig.Pacing.DEFAULT_SEGMENT_MAX_SECONDS, 1, 86_400);
    seg.rejectUnknown();
    ConfigNode batch = n.object("batch", false);
    int batchRows = batch.integer("rows", (long) JobConfig.DEFAULT_BATCH_ROWS, 1, 100_000).intValue();
    int batchMin = batch.integer("minRows", (long) Math.min(JobConfig.Pacing.DEFAULT_BATCH_MIN_ROWS, batchRows), 1, 100_000).intValue();
    int batchMax = batch.integer("maxRows", (long) Math.max(JobConfig.Pacing.DEFAULT_BATCH_MAX_ROWS, batchRows), 1, 100_000).intValue();
    long batchTargetMs = batch.integer("targetMs", JobConfig.Pacing.DEFAULT_BATCH_TARGET_MS, 1, 600_000);
    if (batchMin > batchMax) batch.problem("minRows", "must not exceed maxRows (" + batchMax + ")");
    if (batchRows < batchMin || batchRows > batchMax) batch.problem("rows", "must be between minRows and maxRows (" + batchMin + ".." + batchMax + ")");
    batch.rejectUnknown();
    ConfigNode pace = n.object("pace", false);
    Double rate = pace.number("rowsPerSecond", null, 1e-9, 1e9);
    if (pace.has("rowsPerSecond") && rate == null) {
      // already reported (e.g. negative or zero)
    }
    long burst = pace.integer("burstRows", 0L, 0, 10_000_000);
    pace.rejectUnknown();
    ConfigNode conc = n.object("concurrency", false);
    int max = conc.integer("max", (long) JobConfig.DEFAULT_CONCURRENCY_MAX, 1, 256).intValue();
    int min = conc.integer("min", (long) Math.min(JobConfig.Pacing.DEFAULT_CONCURRENCY_MIN, max), 1, 256).intValue();
    if (min > max) conc.problem("min", "must not exceed max (" + max + ")");
    conc.rejectUnknown();
    ScheduleConfig schedule = PacingConfigLoader.schedule(n.object("schedule", false));
    JobConfig.Abort abort = PacingConfigLoader.abort(n.object("abort", false));
    JobConfig.CopyMode mode = n.choice("mode", JobConfig.CopyMode.AUTO, modes());
    JobConfig.Order order = n.choice("order", null, orders());
    ConfigNode retry = n.object("retry", false);
    int attempts = retry.integer("maxAttempts", (long) JobConfig.Retry.DEFAULT_MAX_ATTEMPTS, 1, 1000).intValue();
    long baseMs = retry.integer("baseDelayMs", JobConfig.Retry.DEFAULT_BASE_DELAY_MS, 1, 3_600_000);
    long maxMs = retry.integer("maxDelayMs", JobConfig.Retry.DEFAULT_MAX_DELAY_MS, 1, 3_600_000);
    if (maxMs < baseMs) retry.problem("maxDelayMs", "must be at least baseDelayMs (" + baseMs + ")");
    retry.rejectUnknown();
    JobConfig.Capture capture = ConsistencySections.capture(n.object("capture", false));
    JobConfig.Verify verify = ConsistencySections.verify(n.object("verify", false));
    JobConfig.Drift drift = ConsistencySections.drift(n.object("drift", false));
    JobConfig.Rollback rollback = ConsistencySections.rollback(n.object("rollback", false));
    JobConfig.Cache cache = ReadSections.cache(n.object("cache", false));
    JobConfig.Reads reads = ReadSections.reads(n.object("reads", false));
    if (batchRows > segmentRows && n.has("batch") && n.has("segment")) {
      n.problem("batch.rows", "must not exceed segment.rows (" + segmentRows + ")");
    }
    n.rejectUnknown();
    if (name == null || sourceTable == null || targetTable == null) return null;
    long effectiveBurst = burst > 0 ? burst : Math.max(batchRows, rate == null ? batchRows : (long) Math.ceil(rate));
    return new JobConfig(
        name,
        new JobConfig.Source(sourceTable, List.copyOf(key), where),
        new JobConfig.Target(targetTable, create),
        columns == null ? null : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns)),
        segmentRows,
        batchRows,
        new JobConfig.Pace(rate, effectiveBurst),
        max,
        mode,
        new JobConfig.Retry(attempts, Duration.ofMillis(baseMs), Duration.ofMillis(maxMs)),
        capture, verify, drift, rollback,
        cache, reads,
        order == null ? JobConfig.Order.defaultFor(capture) : order,

        new JobConfig.Pacing(Math.min(min, max), Math.min(batchMin, batchMax), batchMax, Duration.ofMillis(batchTargetMs),
            Duration.ofSeconds(segmentMaxSeconds), schedule, abort, conc.has("max") ? max : null));
  }

  private static Map<String, JobConfig.Order> orders() {
    Map<String, JobConfig.Order> m = new LinkedHashMap<>();
    m.put("cold-first", JobConfig.Order.COLD_FIRST);
    m.put("key", JobConfig.Order.KEY);
    return m;
  }

  private static Map<String, JobConfig.CopyMode> modes() {
    Map<String, JobConfig.CopyMode> m = new LinkedHashMap<>();
    m.put("auto", JobConfig.CopyMode.AUTO);
    m.put("client", JobConfig.CopyMode.CLIENT);
    m.put("server", JobConfig.CopyMode.SERVER);
    m.put("rows", JobConfig.CopyMode.ROWS);
    return m;
  }

  private static TableName table(ConfigNode n, String field) {
    String s = n.string(field, null, n.isObject());
    if (s == null) return null;
    try {
      return TableName.parse(s.trim());
    } catch (IllegalArgumentException e) {
      n.problem(field, e.getMessage());
      return null;
    }
  }
}
