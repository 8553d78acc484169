package dev.sluice.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A row corrupted in the target behind Sluice's back is caught by shadow mode: counted, recorded with
 * its key, and the rollout pauses, after which the key is served from the source. Composite key with
 * a comma inside a part, through the documented path encoding. The pause holds for an agent started
 * later, and a share set on one agent is followed by the others.
 */
class ShadowModeTest {
  private static final String JOB = """
      {"name": "accounts", "source": {"table": "public.accounts", "key": ["region", "id"]},
       "target": {"table": "public.accounts", "create": true},
       "segment": {"rows": 1000}, "capture": {"enabled": false},
       "cache": {"warm": "none"},
       "reads": {"targetPercent": 100, "shadowPercent": 100, "shadowMaxMismatches": 0, "shadowRecheckMs": 50}}""";
  private final TestPg pg = TestPg.get();

  @Test
  void corruptedTargetRowIsCaughtAndPausesTheRollout() {
    String src = pg.createDatabase("src");
    String tgt = pg.createDatabase("tgt");
    pg.exec(src, "CREATE TABLE accounts (region text, id bigint, owner text, balance numeric(12,2), PRIMARY KEY (region, id))",
        "INSERT INTO accounts SELECT r, g, 'owner ' || g, g * 1.25 FROM generate_series(1, 1000) g, "
            + "unnest(ARRAY['eu,west', 'us/east', 'ap']) r");
    Agent agent = Agents.start(ReadTests.config(pg, src, tgt, JOB));
    try {
      ReadClient client = new ReadClient(agent.httpPort(), ReadTests.READ_TOKEN);
      ReadTests.awaitVerified(pg, tgt, "accounts");

      // In sync: shadow reads compare equal, nothing is paused.
      ReadClient.Response ok = client.get("accounts", List.of("us/east", "7"));
      assertEquals(200, ok.status(), ok.body());
      assertEquals("target", ok.servedFrom());
      assertEquals(new JsonObject("{\"region\":\"us/east\",\"id\":7,\"owner\":\"owner 7\",\"balance\":8.75}"), ok.json());
      ReadTests.await("the shadow check of the in-sync read", 10, () -> client.status("accounts").getJsonObject("shadow").getLong("checks") >= 1);

      // A target that cannot answer sends its keys to the source.
      pg.exec(tgt, "ALTER TABLE accounts RENAME TO accounts_away");
      ReadClient.Response fallback = client.get("accounts", List.of("ap", "9"));
      pg.exec(tgt, "ALTER TABLE accounts_away RENAME TO accounts");
      assertEquals(200, fallback.status(), fallback.body());
      assertEquals("source", fallback.servedFrom());
      assertEquals(1, client.status("accounts").getLong("targetErrors"));

      pg.exec(tgt, "UPDATE accounts SET balance = 0 WHERE region = 'eu,west' AND id = 42");
      ReadClient.Response bad = client.get("accounts", List.of("eu,west", "42"));
      assertEquals("target", bad.servedFrom(), "served from the target before shadow mode notices");
      assertEquals(0, bad.json().getInteger("balance"));

      ReadTests.await("the rollout to pause", 15, () -> client.status("accounts").getInteger("effectivePercent") == 0);
      JsonObject status = client.status("accounts");
      assertEquals(1, status.getJsonObject("shadow").getLong("mismatches"));
      assertEquals(100, status.getInteger("targetPercent"));
      assertTrue(status.getString("pausedReason").contains("[\"eu,west\",\"42\"]"), status.encode());
      String details = pg.string(tgt, "SELECT details::text FROM sluice.events WHERE job = 'accounts' AND kind = 'reads.shadow_mismatch'");
      assertEquals("[\"eu,west\",\"42\"]", new JsonObject(details).getString("key"));
      assertEquals(new JsonArray().add("balance"), new JsonObject(details).getJsonArray("columns"));
      assertEquals(1, pg.scalar(tgt, "SELECT count(*) FROM sluice.events WHERE job = 'accounts' AND kind = 'reads.paused' "
          + "AND message LIKE 'read rollout paused: 1 shadow mismatches%'"));

      // Paused: every read goes to the source, which has the right row.
      ReadClient.Response after = client.get("accounts", List.of("eu,west", "42"));
      assertEquals("source", after.servedFrom());
      assertEquals(52.5, after.json().getDouble("balance"));

      // A second agent (or this one restarted) starts with the rollout still paused, from the ledger.
      Agent second = Agents.start(ReadTests.config(pg, src, tgt, JOB));
      try {
        ReadClient other = new ReadClient(second.httpPort(), ReadTests.READ_TOKEN);
        JsonObject st = other.status("accounts");
        assertEquals(0, st.getInteger("effectivePercent"), st.encode());
        assertTrue(st.getString("pausedReason").contains("shadow mismatches"), st.encode());

        // An operator resumes at 1% on one agent: the rollout is live again, on every agent.
        assertEquals(200, other.setTargetPercent("accounts", 1, ReadTests.CONTROL_TOKEN).status());
        assertEquals(1, other.status("accounts").getInteger("effectivePercent"));
        ReadTests.await("the first agent to follow the share set on the second", 10,
            () -> client.status("accounts").getInteger("effectivePercent") == 1);
      } finally {
        Await.result(second.stop(), 1, TimeUnit.MINUTES);
      }
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
  }
}
