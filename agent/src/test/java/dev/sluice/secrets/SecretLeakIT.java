package dev.sluice.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.AgentProcess;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Http;
import dev.sluice.testing.TlsPg;
import dev.sluice.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/**
 * Plants secrets where an operator puts them (a password file, an inline password, a password in a URL,
 * the control and read tokens, a client key) and runs the real jar through a migration, control calls,
 * rejected hot reloads and CLI commands; then greps every channel the agent writes to: its stdout and
 * stderr, the CLI's, every table of both databases (ledger, events, config versions, capture), every HTTP
 * endpoint (with and without tokens) and the WebSocket's messages. None may hold a secret, raw or
 * percent-encoded; and each channel must really hold output (the test would pass vacuously otherwise).
 */
@Tag("process")
class SecretLeakIT {
  private static final String DB_PASSWORD = "Pl4nted-db@pw:1/x#y";
  private static final String INLINE_PASSWORD = "Pl4nted-inline-pw-77";
  private static final String URL_PASSWORD = "Pl4nted@url/pw:88";
  private static final String TOKEN = "Pl4nted-control-token-0123456789";
  private static final String READ_TOKEN = "Pl4nted-read-token-9876543210";
  /**
   * A webhook URL's path is its secret (Slack's are): written literally in the config. Port 9 of localhost:
   * nothing listens (a name, not an address: AgentProcess takes the first http://address:port/ logged).
   */
  private static final String HOOK_PATH = "Pl4nted-hook-path-B0123/XyZ";
  private static final String HOOK_PATH_EDITED = "Pl4nted-hook-edit-B4567/AbC";

  @TempDir
  Path dir;

  private final TlsPg pg = TlsPg.get();
  private final Map<String, String> channels = new LinkedHashMap<>();

  private String config(String src, String tgt, String sourceExtra) {
    return config(src, tgt, sourceExtra, HOOK_PATH);
  }

  private String config(String src, String tgt, String sourceExtra, String hookPath) {
    String ca = pg.certs.ca().toString();
    return "{\"$schema\": \"./sluice.schema.json\","
        + " \"source\": {\"url\": \"postgresql://sluice_leak@127.0.0.1:" + pg.port() + "/" + src + "?sslmode=require\"" + sourceExtra + "},"
        + " \"target\": {\"url\": \"postgresql://localhost:" + pg.port() + "/" + tgt + "\", \"user\": \"sluice_cert\", \"sslMode\": \"verify-full\","
        + "   \"sslRootCert\": \"" + ca + "\", \"sslCert\": \"" + pg.certs.clientCert() + "\", \"sslKey\": \"" + pg.certs.clientKey() + "\"},"
        + " \"notify\": {\"webhooks\": [{\"url\": \"http://localhost:9/services/" + hookPath + "?token=x\"}]},"
        + " \"http\": {\"port\": 0, \"token\": \"" + TOKEN + "\", \"readToken\": \"" + READ_TOKEN + "\"},"
        + " \"jobs\": [{\"name\": \"leak\", \"source\": {\"table\": \"items\", \"key\": [\"id\"]}, \"target\": {\"table\": \"items\", \"create\": true},"
        + "   \"segment\": {\"rows\": 500}, \"batch\": {\"rows\": 250}}]}";
  }

  @Test
  void noSecretReachesAnyChannel() throws Exception {
    String src = pg.createDatabase("leaksrc");
    String tgt = pg.createDatabase("leaktgt");
    pg.exec("postgres", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice_leak') THEN "
        + "CREATE ROLE sluice_leak LOGIN SUPERUSER IN ROLE password_login; END IF; END $$",
        "ALTER ROLE sluice_leak PASSWORD '" + DB_PASSWORD + "'");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, v text)", "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 2000) g");
    Path secret = dir.resolve("source-password");
    Files.writeString(secret, DB_PASSWORD + "\n");
    Path file = dir.resolve("sluice.json");
    String good = config(src, tgt, ", \"passwordFile\": \"" + secret + "\"");
    Files.writeString(file, good);

    // The CLI before the agent: validate (passes), and validate with a wrong password in the URL (fails).
    assertEquals(0, cli("validate", "validate", "--config", file.toString()), "validate passes over TLS (require, verify-full)");
    Path wrong = dir.resolve("wrong.json");
    Files.writeString(wrong, good.replace("postgresql://sluice_leak@", "postgresql://sluice_leak:" + INLINE_PASSWORD + "@")
        .replace(", \"passwordFile\": \"" + secret + "\"", ""));
    assertEquals(2, cli("validate-wrong-password", "validate", "--config", wrong.toString()));
    assertTrue(channels.get("CLI validate-wrong-password").contains("password authentication failed"), channels.get("CLI validate-wrong-password"));

    try (AgentProcess agent = AgentProcess.start(dir, "agent", "run", "--config", file.toString())) {
      String base = "http://127.0.0.1:" + agent.httpPort(120);
      Eventually.until(Duration.ofSeconds(120), "the job copied",
          () -> pg.scalar(tgt, "SELECT count(*) FROM items") == 2000 || !agent.alive());
      assertEquals(200, Http.post(base + "/api/jobs/leak/pause", TOKEN, "{\"reason\": \"leak test\"}").status());
      assertEquals(200, Http.post(base + "/api/jobs/leak/resume", TOKEN, "{}").status());
      assertEquals(401, Http.post(base + "/api/jobs/leak/pause", READ_TOKEN, "{}").status());

      // Hot reloads that must be refused: a URL that does not parse (a raw @ and / in its password)...
      Files.writeString(file, good.replace("postgresql://sluice_leak@", "postgresql://sluice_leak:" + URL_PASSWORD + "@"));
      Eventually.until(Duration.ofSeconds(30), "the bad URL rejected", () -> agent.log().contains("rejected") || agent.log().contains("refused"));
      // ...and a source given a different (inline) password, which needs a restart, with another webhook URL.
      String before = agent.log();
      Files.writeString(file, config(src, tgt, ", \"password\": \"" + INLINE_PASSWORD + "\"", HOOK_PATH_EDITED));
      Eventually.until(Duration.ofSeconds(30), "the source change refused", () -> agent.log().length() > before.length());
      Eventually.pause(2500);

      // Every GET operation of the agent's OpenAPI document (which a test keeps equal to its routes), and more.
      List<String> paths = new ArrayList<>(List.of("/api/jobs/leak/events?after=0", "/api/no-such-thing", "/index.html"));
      JsonObject openapi = new JsonObject(Http.get(base + "/api/openapi.json").body());
      for (String p : openapi.getJsonObject("paths").fieldNames()) {
        if (openapi.getJsonObject("paths").getJsonObject(p).containsKey("get") && !p.equals("/ws")) {
          paths.add(p.replace("{job}", "leak").replace("{seq}", "1").replace("{key}", "7"));
        }
      }
      assertTrue(paths.contains("/api/config") && paths.contains("/metrics"), paths.toString());
      channels.put("POST /api/jobs/leak/rows:batchGet (read token)",
          Http.post(base + "/api/jobs/leak/rows:batchGet", READ_TOKEN, "{\"keys\": [1, 2]}").body());
      for (String p : paths) {
        channels.put("GET " + p, Http.get(base + p).body());
        channels.put("GET " + p + " (control token)", Http.get(base + p, TOKEN).body());
        channels.put("GET " + p + " (read token)", Http.get(base + p, READ_TOKEN).body());
      }
      assertTrue(channels.get("GET /api/config").contains(secret.toString()), "the password file's path is shown: " + channels.get("GET /api/config"));
      assertTrue(channels.get("GET /api/config").contains("***"), channels.get("GET /api/config"));
      assertTrue(channels.get("GET /metrics").contains("sluice_"), "metrics served");
      try (WsClient ws = WsClient.connect(base.replace("http", "ws") + "/ws")) {
        channels.put("WebSocket", ws.await(m -> true, 20, "a first message").json().encode());
        ws.send(new JsonObject().put("type", "auth").put("token", TOKEN));
        Eventually.pause(1500);
        channels.put("WebSocket (after auth)", ws.await(m -> true, 20, "a message after auth").json().encode());
      }
      agent.signal("TERM");
      agent.awaitExit(60);
      channels.put("agent stdout+stderr", agent.log());
    }
    cli("status", "status", "--config", file.toString());
    channels.put("source tables", dump(src));
    channels.put("target tables", dump(tgt));

    assertTrue(channels.get("agent stdout+stderr").contains("config"), "the agent logged its reloads");
    assertTrue(channels.get("target tables").contains("config.rejected"), "the rejected reload is in the ledger's events");
    assertTrue(channels.get("target tables").contains("leak test"), "the operator's pause is in the ledger");

    String key = Files.readString(pg.certs.clientKey());
    String keyBody = key.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    List<String> leaks = new ArrayList<>();
    for (String s : List.of(DB_PASSWORD, INLINE_PASSWORD, URL_PASSWORD, TOKEN, READ_TOKEN, keyBody, HOOK_PATH, HOOK_PATH_EDITED, "/services/")) {
      for (String form : List.of(s, URLEncoder.encode(s, StandardCharsets.UTF_8), new JsonArray().add(s).encode().replaceAll("^\\[\"|\"]$", ""))) {
        channels.forEach((channel, text) -> {
          if (text.contains(form)) leaks.add(channel + " holds \"" + form + "\": ..." + around(text, form) + "...");
        });
      }
    }
    assertEquals(List.of(), leaks, "secrets leaked");
    assertTrue(channels.get("target tables").contains("http://localhost:9/..."), "the config versions show the webhook by its origin");
    System.out.println("channels checked: " + channels.keySet());
  }

  private static String around(String text, String form) {
    int i = text.indexOf(form);
    return text.substring(Math.max(0, i - 120), Math.min(text.length(), i + form.length() + 40));
  }

  private int cli(String name, String... args) throws Exception {
    try (AgentProcess p = AgentProcess.start(dir, name, args)) {
      int rc = p.awaitExit(120);
      channels.put("CLI " + name, p.log());
      return rc;
    }
  }

  /** Every row of every table outside the system schemas, as text. */
  private String dump(String db) throws Exception {
    StringBuilder out = new StringBuilder();
    try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet r = s.executeQuery("SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
          + "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'")) {
        while (r.next()) tables.add(r.getString(1));
      }
      for (String t : tables) {
        try (ResultSet r = s.executeQuery("SELECT t::text FROM " + t + " t")) {
          out.append("-- ").append(t).append('\n');
          while (r.next()) out.append(r.getString(1)).append('\n');
        }
      }
      // Functions and triggers Sluice installed on the source hold no secret either.
      try (ResultSet r = s.executeQuery("SELECT string_agg(prosrc, E'\\n') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
          + "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')")) {
        if (r.next() && r.getString(1) != null) out.append(r.getString(1));
      }
    }
    return out.toString();
  }
}
