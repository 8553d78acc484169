package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The loader alone (no database): defaults, every problem at once with its path, environment, secrets. */
class ConfigLoaderTest {
  private static final String MINIMAL = """
      {"source": {"url": "postgresql://u@127.0.0.1:5432/app"}, "target": {"url": "postgresql://u@127.0.0.1:5432/archive"},
       "jobs": [{"name": "orders", "source": {"table": "orders", "key": ["id"]}, "target": {"table": "public.orders"}}]}""";

  @AfterEach
  void restoreEnv() {
    Env.override(null);
  }

  private static List<String> problems(String json) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(json));
    return e.problems().stream().map(ConfigProblem::toString).toList();
  }

  @Test
  void defaultsApplyToEveryOmittedField() {
    Env.override(Map.of());
    SluiceConfig c = ConfigLoader.parse(MINIMAL);
    JobConfig j = c.jobs().get(0);
    assertEquals(new TableName("public", "orders"), j.source().table());
    assertNull(j.source().where());
    assertFalse(j.target().create());
    assertNull(j.columns());
    assertEquals(JobConfig.DEFAULT_SEGMENT_ROWS, j.segmentRows());
    assertEquals(JobConfig.DEFAULT_BATCH_ROWS, j.batchRows());
    assertNull(j.pace().rowsPerSecond());
    assertEquals(JobConfig.DEFAULT_BATCH_ROWS, j.pace().burstRows());
    assertEquals(JobConfig.DEFAULT_CONCURRENCY_MAX, j.concurrencyMax());
    assertEquals(JobConfig.CopyMode.AUTO, j.mode());
    assertEquals(JobConfig.Retry.DEFAULT_MAX_ATTEMPTS, j.retry().maxAttempts());
    assertEquals(Duration.ofMillis(JobConfig.Retry.DEFAULT_BASE_DELAY_MS), j.retry().baseDelay());
    assertEquals(Duration.ofMillis(JobConfig.Retry.DEFAULT_MAX_DELAY_MS), j.retry().maxDelay());
    assertTrue(c.http().enabled());
    assertEquals(HttpConfig.DEFAULT_HOST, c.http().host());
    assertEquals(HttpConfig.DEFAULT_PORT, c.http().port());
    assertNull(c.http().token());
    assertEquals(Duration.ofSeconds(AgentConfig.DEFAULT_LEASE_SECONDS), c.agent().lease());
    assertEquals(Duration.ofSeconds(AgentConfig.DEFAULT_HEARTBEAT_SECONDS), c.agent().heartbeat());
    assertEquals(DatabaseConfig.DEFAULT_POOL_SIZE, c.source().poolSize());
    assertFalse(c.sameDatabase());
    assertEquals(Duration.ofMillis(SessionLimits.DEFAULT_STALL_TIMEOUT_MS), c.sessions().stallTimeout());
  }

  @Test
  void aStallTimeoutBelowOneSecondIsRefusedWithItsPath() {
    Env.override(Map.of());
    String with = MINIMAL.replace("\"jobs\"", "\"sessions\": {\"stallTimeoutMs\": %s}, \"jobs\"");
    assertEquals(Duration.ofSeconds(2), ConfigLoader.parse(with.formatted("2000")).sessions().stallTimeout());
    assertEquals(List.of("sessions.stallTimeoutMs: must be between 1000 and 86400000 (got 0)"), problems(with.formatted("0")));
    assertTrue(problems(with.formatted("\"60s\"")).get(0).startsWith("sessions.stallTimeoutMs: must be a whole number"));
  }

  @Test
  void niceIsOffByDefaultAndBetweenZeroAndNineteen() {
    Env.override(Map.of());
    assertEquals(0, ConfigLoader.parse(MINIMAL).sessions().nice());
    String with = MINIMAL.replace("\"jobs\"", "\"sessions\": {\"nice\": %s}, \"jobs\"");
    assertEquals(10, ConfigLoader.parse(with.formatted("10")).sessions().nice());
    assertEquals(List.of("sessions.nice: must be between 0 and 19 (got 20)"), problems(with.formatted("20")));
    assertEquals(List.of("sessions.nice: must be between 0 and 19 (got -1)"), problems(with.formatted("-1")));
  }

  @Test
  void reportsEveryProblemAtOnceEachWithItsPath() {
    List<String> p = problems("""
        {"source": {"url": "http://x"}, "target": {}, "colour": 1,
         "jobs": [{"name": "Bad Name", "source": {"table": "a.b.c", "key": []}, "target": {"table": "t", "creat": true},
                   "segment": {"rows": 0}, "pace": {"rowsPerSecond": -1}, "concurrency": {"max": 0}}, 7]}""");
    for (String expected : List.of("source.url: must start with postgresql://", "target.url: is required", "colour: unknown field",
        "jobs[0].name: must match", "jobs[0].source.table: \"a.b.c\" is not a table name", "jobs[0].source.key: must name at least one column",
        "jobs[0].target.creat: unknown field", "jobs[0].segment.rows: must be between 1", "jobs[0].pace.rowsPerSecond: must be between",
        "jobs[0].concurrency.max: must be between 1", "jobs[1]: must be an object")) {
      assertTrue(p.stream().anyMatch(s -> s.startsWith(expected)), "missing \"" + expected + "\" in " + p);
    }
  }

  @Test
  void invalidJsonNamesLineColumnAndPath() {
    List<String> p = problems("{\"source\": {\"url\": \"postgresql://u@h/d\"},\n \"jobs\": [{\"name\": \"a\", \"segment\": {\"rows\": 10,}}]}");
    assertEquals(1, p.size(), p.toString());
    assertTrue(p.get(0).startsWith("jobs[0].segment.rows: invalid JSON at line 2, column 48"), p.get(0));
    assertTrue(problems("[1, 2]").get(0).contains("must be a JSON object"));
    assertTrue(problems("{\"jobs\": [], \"jobs\": []}").get(0).contains("Duplicate field 'jobs'"), "duplicate keys are refused");
    // A missing brace: where the unclosed object began, in the same words, without the parser's internals.
    String unclosed = problems("{\"jobs\": [{\"name\": \"a\",\n \"batch\": {\"rows\": 5}\n]}").get(0);
    assertTrue(unclosed.endsWith("(for Object starting at line 1, column 11)"), unclosed);
    assertFalse(unclosed.contains("Source:") || unclosed.contains("StreamReadFeature"), unclosed);
  }

  @Test
  void environmentVariablesAreSubstitutedWithDefaultsAndNeverLeakInMessages() {
    Env.override(Map.of("PGPASSWORD", "s3cret", "DB", "app"));
    SluiceConfig c = ConfigLoader.parse(MINIMAL.replace("u@127.0.0.1:5432/app", "u:${PGPASSWORD}@${HOST:-127.0.0.1}:5432/${DB}"));
    assertEquals("s3cret", c.source().password());
    assertEquals("127.0.0.1", c.source().host());
    assertEquals("app", c.source().database());
    assertFalse(c.source().toString().contains("s3cret"), c.source().toString());
    assertFalse(c.source().redacted().contains("s3cret"));
    assertEquals("postgresql://u:***@h/d", ConfigLoader.redact("postgresql://u:s3cret@h/d"));
    List<String> p = problems(MINIMAL.replace("u@127.0.0.1:5432/app", "u:${NOT_SET_ANYWHERE}@127.0.0.1:5432/app"));
    assertEquals(List.of("source.url: environment variable NOT_SET_ANYWHERE is not set"), p);
    List<String> bad = problems(MINIMAL.replace("postgresql://u@127.0.0.1:5432/app", "mysql://u:s3cret@h/app"));
    assertFalse(bad.toString().contains("s3cret"), bad.toString());
  }

  @Test
  void sameDatabaseIsDetectedAndServerModeNeedsIt() {
    String same = MINIMAL.replace("5432/archive", "5432/app");
    assertTrue(ConfigLoader.parse(same).sameDatabase());
    assertEquals(JobConfig.CopyMode.SERVER,
        ConfigLoader.parse(same.replace("\"name\": \"orders\",", "\"name\": \"orders\", \"mode\": \"server\",")).jobs().get(0).mode());
    assertEquals(List.of("jobs[0].mode: \"server\" needs source and target in the same database"),
        problems(MINIMAL.replace("\"name\": \"orders\",", "\"name\": \"orders\", \"mode\": \"server\",")));
  }

  @Test
  void tableNamesFoldCaseUnlessQuoted() {
    assertEquals(new TableName("public", "orders"), TableName.parse("Orders"));
    assertEquals(new TableName("Sales", "Order Items"), TableName.parse("\"Sales\".\"Order Items\""));
    assertEquals("\"Sales\".\"Order Items\"", TableName.parse("\"Sales\".\"Order Items\"").sql());
    assertThrows(IllegalArgumentException.class, () -> TableName.parse("orders; drop table x"));
    assertThrows(IllegalArgumentException.class, () -> TableName.parse("\"unterminated"));
    assertThrows(IllegalArgumentException.class, () -> TableName.parse("a..b"));
  }
}
