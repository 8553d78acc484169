package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ConfigDiffTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BASE = """
      {"source": {"url": "postgresql://u:secret@h/a"}, "target": {"url": "postgresql://u@h/b"},
       "http": {"token": "0123456789abcdef"},
       "jobs": [{"name": "orders", "source": {"table": "public.orders", "key": ["id"]}, "target": {"table": "public.orders"},
                 "pace": {"rowsPerSecond": 1000}, "concurrency": {"max": 2}}]}""";

  private static ConfigDiff.Result diff(String after) throws Exception {
    return ConfigDiff.between(JSON.readTree(BASE), JSON.readTree(after));
  }

  @Test
  void liveSettingsApply() throws Exception {
    ConfigDiff.Result r = diff(BASE.replace("\"rowsPerSecond\": 1000", "\"rowsPerSecond\": 5000")
        .replace("\"concurrency\": {\"max\": 2}", "\"concurrency\": {\"max\": 4}, \"batch\": {\"rows\": 100}"));
    assertTrue(r.acceptable(), r.refused().toString());
    assertEquals("[jobs[orders].pace.rowsPerSecond: 1000 -> 5000, jobs[orders].concurrency.max: 2 -> 4, "
        + "jobs[orders].batch: (unset) -> {\"rows\":100}]", r.live().toString());
  }

  @Test
  void healthSettingsApplyLiveBreakerAndSessionsAtTheNextRestart() throws Exception {
    ConfigDiff.Result r = diff(BASE.replace("\"http\":", "\"health\": {\"probe\": {\"maxMs\": 250}}, \"http\":"));
    assertTrue(r.acceptable(), r.refused().toString());
    assertEquals(1, r.live().size(), r.live().toString());
    assertTrue(r.live().get(0).path().startsWith("health"), r.live().toString());
    ConfigDiff.Result b = diff(BASE.replace("\"http\":", "\"breaker\": {\"failures\": 3}, \"sessions\": {\"statementTimeoutMs\": 5}, \"http\":"));
    assertTrue(b.acceptable(), "breaker and sessions wait for a restart, the rest of the file applies: " + b.refused());
    assertEquals("[breaker: (unset) -> {\"failures\":3}, sessions: (unset) -> {\"statementTimeoutMs\":5}]", b.deferred().toString());
    assertTrue(b.live().isEmpty() && !b.empty());
    ConfigDiff.Result j = diff(BASE.replace("\"concurrency\": {\"max\": 2}", "\"concurrency\": {\"max\": 2}, \"drift\": {\"nullRatioThreshold\": 0.2}"));
    assertTrue(j.acceptable() && j.live().isEmpty(), j.toString());
    assertEquals("[jobs[orders].drift: (unset) -> {\"nullRatioThreshold\":0.2}]", j.deferred().toString(), "set up at the job's start");
  }

  @Test
  void identityChangesAreRefusedWithTheReason() throws Exception {
    ConfigDiff.Result r = diff(BASE.replace("\"key\": [\"id\"]", "\"key\": [\"id\", \"tenant\"]")
        .replace("\"target\": {\"table\": \"public.orders\"}", "\"target\": {\"table\": \"public.orders2\"}"));
    assertFalse(r.acceptable());
    assertEquals(2, r.refused().size());
    assertTrue(r.refused().get(0).startsWith("jobs[orders].source.key changed"), r.refused().get(0));
    assertTrue(r.refused().get(0).contains("cannot change"), r.refused().get(0));
    assertTrue(r.refused().get(1).startsWith("jobs[orders].target.table changed (\"public.orders\" -> \"public.orders2\")"));
  }

  @Test
  void restartOnlyChangesAndRemovedJobsAreRefusedWithoutSecrets() throws Exception {
    ConfigDiff.Result r = diff(BASE.replace("u:secret@h/a", "u:other@h/a").replace("0123456789abcdef", "fedcba9876543210")
        .replace("\"jobs\": [{\"name\": \"orders\"", "\"jobs\": [{\"name\": \"orders2\""));
    assertFalse(r.acceptable());
    String all = String.join("\n", r.refused());
    assertTrue(all.contains("source.url changed"), all);
    assertTrue(all.contains("http.token changed (*** -> ***)"), all);
    assertTrue(all.contains("jobs[orders] removed"), all);
    assertFalse(all.contains("secret") || all.contains("other@") || all.contains("0123456789abcdef"), all);
    assertEquals(java.util.List.of("orders2"), r.addedJobs());
  }

  @Test
  void secretsAreMaskedInStoredContent() throws Exception {
    JsonNode red = Secrets.redact(JSON.readTree(BASE.replace("postgresql://u@h/b", "postgresql://h/b?user=u&password=pw1")));
    String s = red.toString();
    assertFalse(s.contains("secret") || s.contains("0123456789abcdef") || s.contains("pw1"), s);
    assertTrue(s.contains("postgresql://u:***@h/a") && s.contains("\"token\":\"***\"") && s.contains("password=***"), s);
  }

  @Test
  void webhookUrlsAreCutDownToTheirOriginInStoredContentAndInChanges() throws Exception {
    String hook = "https://hooks.slack.com/services/T000/B000/Xsecretpath?x=1";
    String withHook = BASE.replace("\"http\":", "\"$schema\": \"https://example.com/sluice.schema.json\", "
        + "\"notify\": {\"webhooks\": [{\"url\": \"" + hook + "\"}]}, \"http\":");
    String s = Secrets.redact(JSON.readTree(withHook)).toString();
    assertFalse(s.contains("Xsecretpath") || s.contains("services"), s);
    assertTrue(s.contains("\"url\":\"https://hooks.slack.com/...\""), s);
    assertTrue(s.contains("https://example.com/sluice.schema.json"), "$schema is a public address, kept: " + s);
    assertEquals("http://127.0.0.1:9000/...", Secrets.text("url", "http://u:pw@127.0.0.1:9000/a/b"));
    assertEquals("(an invalid URL)", Secrets.text("url", "https://exa mple/secret"));

    // The whole notify section shown in a change (added, then its URL edited): never the path.
    ConfigDiff.Result added = diff(withHook);
    ConfigDiff.Result edited = ConfigDiff.between(JSON.readTree(withHook), JSON.readTree(withHook.replace("Xsecretpath", "Ysecretpath")));
    for (ConfigDiff.Result r : java.util.List.of(added, edited)) {
      String all = r.toString() + ConfigDiff.describe(r.deferred()) + r.refused();
      assertFalse(all.contains("secretpath") || all.contains("services"), all);
      assertTrue(all.contains("https://hooks.slack.com/..."), all);
    }
  }
}
