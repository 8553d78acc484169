package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code notify} and a job's {@code order}: defaults, what is read, and bad input refused with its path and no secret echoed. */
class NotifyConfigTest {
  private static final String BASE = """
      {"source": {"url": "postgresql://u@h:5432/a"}, "target": {"url": "postgresql://u@h:5432/b"}, %s
       "jobs": [{"name": "a", "source": {"table": "t", "key": ["id"]}, "target": {"table": "t"} %s},
                {"name": "b", "source": {"table": "u", "key": ["id"]}, "target": {"table": "u"}, "capture": {"enabled": false}}]}""";

  @Test
  void defaultsAndWebhooks() {
    SluiceConfig none = ConfigLoader.parse(BASE.formatted("", ""));
    assertTrue(none.notifications().webhooks().isEmpty());
    assertEquals(NotifyConfig.DEFAULT_HELD_MINUTES, none.notifications().heldAfter().toMinutes());
    assertEquals(JobConfig.Order.COLD_FIRST, none.jobs().get(0).order(), "cold-first with capture (on by default)");
    assertEquals(JobConfig.Order.KEY, none.jobs().get(1).order(), "key order without capture");
    SluiceConfig c = ConfigLoader.parse(BASE.formatted("""
        "notify": {"heldMinutes": 3, "webhooks": [{"url": "https://hooks.example.com/x/y", "events": ["completed"], "tokenFrom": "env:HOOK_TOKEN"},
                                                  {"url": "http://127.0.0.1:9/z", "tokenFrom": "file:/run/secrets/t"}]},""", ", \"order\": \"key\""));
    assertEquals(JobConfig.Order.KEY, c.jobs().get(0).order());
    assertEquals(3, c.notifications().heldAfter().toMinutes());
    NotifyConfig.Webhook w = c.notifications().webhooks().get(0);
    assertEquals(Set.of("completed"), w.events());
    assertEquals("HOOK_TOKEN", w.tokenEnv());
    assertEquals("/run/secrets/t", c.notifications().webhooks().get(1).tokenFile());
    assertTrue(c.notifications().webhooks().get(1).events().isEmpty(), "no events listed: all");
  }

  @Test
  void badInputIsRefusedWithItsPathAndNoSecret() {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(BASE.formatted("""
        "notify": {"webhooks": [{"url": "https://hooks.example.com/T0/secret-path", "token": "literal-secret-token", "events": ["finished"]},
                                {"url": "ftp://hooks.example.com/secret-path"}, {"url": "https://h/x", "tokenFrom": "vault:x"}]},""",
        ", \"order\": \"hot-last\"")));
    String all = e.problems().toString();
    assertTrue(all.contains("notify.webhooks[0].token: a token is never written in the config"), all);
    assertTrue(all.contains("notify.webhooks[0].events[0]: unknown event \"finished\""), all);
    assertTrue(all.contains("notify.webhooks[1].url: must be an http:// or https:// URL"), all);
    assertTrue(all.contains("notify.webhooks[2].tokenFrom"), all);
    assertTrue(all.contains("jobs[0].order: must be one of [cold-first, key]"), all);
    assertFalse(all.contains("literal-secret-token") || all.contains("secret-path"), "no secret echoed: " + all);
  }
}
