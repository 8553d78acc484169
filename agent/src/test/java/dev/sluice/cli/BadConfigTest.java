package dev.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.config.Env;
import dev.sluice.embedded.EmbeddedDatabase;
import dev.sluice.testing.TestPg;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed configs through the CLI entry point: both {@code validate} and {@code run --until-done}
 * must exit 2, name the JSON path of the problem on stderr, say what to do, and leave the target
 * database exactly as it was (no ledger schema, no table created).
 */
class BadConfigTest {
  private static final TestPg pg = TestPg.get();
  private static String src;
  private static String tgt;
  private static List<String> targetBefore;
  private static boolean passwordsChecked;
  private static final String PW_ROLE = "sluice_pw_role";

  @TempDir
  Path dir;

  @BeforeAll
  static void databases() {
    src = pg.createDatabase("badsrc");
    tgt = pg.createDatabase("badtgt");
    pg.exec(src, "CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, total numeric(12, 2), note text)",
        "INSERT INTO orders SELECT g, 'new', g, NULL FROM generate_series(1, 100) g",
        "CREATE TABLE dups (k int NOT NULL, v text)", // no unique index on k
        "CREATE TABLE nullkey (k int UNIQUE, v text)"); // unique but nullable
    pg.exec(tgt, "CREATE TABLE plain (id bigint, status text, total numeric(12, 2), note text)"); // no unique key
    // A text key sorted by ICU's English order on the source and by the database's default (C) order on the target.
    pg.exec(src, "CREATE TABLE coded (code text COLLATE \"en-x-icu\" PRIMARY KEY, v int)");
    // An enum key whose labels the target's type sorts in another order (a created table would use that type too).
    pg.exec(src, "CREATE TYPE lvl AS ENUM ('a', 'b', 'c')", "CREATE TABLE levels (l lvl PRIMARY KEY, v int)");
    pg.exec(tgt, "CREATE TYPE lvl AS ENUM ('c', 'a', 'b')", "CREATE TABLE levels (l lvl PRIMARY KEY, v int)");
    pg.exec(tgt, "CREATE TABLE coded (code text PRIMARY KEY, v int)");
    // Legacy partitioning by inheritance, on either side; a type the target database lacks.
    pg.exec(src, "CREATE TABLE legacy (id bigint PRIMARY KEY, v int)", "CREATE TABLE legacy_2024 () INHERITS (legacy)",
        "CREATE TYPE mood AS ENUM ('ok')", "CREATE TABLE moods (id bigint PRIMARY KEY, m mood)");
    pg.exec(tgt, "CREATE TABLE tparent (id bigint PRIMARY KEY, status text, total numeric(12, 2), note text)",
        "CREATE TABLE tparent_2024 () INHERITS (tparent)",
        "CREATE TABLE deferred (id bigint PRIMARY KEY DEFERRABLE, status text, total numeric(12, 2), note text)");
    targetBefore = targetObjects();
    pg.exec(src, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + PW_ROLE + "') THEN "
        + "CREATE ROLE " + PW_ROLE + " LOGIN PASSWORD 'right-password'; END IF; END $$",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + PW_ROLE,
        // What change capture needs (validate checks it): TRIGGER on the table, CREATE on the database.
        "GRANT TRIGGER ON ALL TABLES IN SCHEMA public TO " + PW_ROLE, "GRANT CREATE ON DATABASE " + src + " TO " + PW_ROLE);
    passwordsChecked = PasswordAuth.require(pg, PW_ROLE, "right-password", src);
  }

  @AfterAll
  static void restoreEnv() {
    Env.override(null);
  }

  /** Every schema-qualified relation and every schema of the target database. */
  private static List<String> targetObjects() {
    return pg.strings(tgt, "SELECT n.nspname || '.' || coalesce(c.relname, '') FROM pg_namespace n "
        + "LEFT JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' "
        + "ORDER BY 1");
  }

  static JsonObject valid() {
    return new JsonObject()
        .put("source", new JsonObject().put("url", pg.url(src)))
        .put("target", new JsonObject().put("url", pg.url(tgt)))
        .put("http", new JsonObject().put("enabled", false))
        .put("jobs", new JsonArray().add(new JsonObject()
            .put("name", "orders")
            .put("source", new JsonObject().put("table", "public.orders").put("key", new JsonArray().add("id")))
            .put("target", new JsonObject().put("table", "public.orders").put("create", true))));
  }

  static JsonObject job(JsonObject c) {
    return c.getJsonArray("jobs").getJsonObject(0);
  }

  static Arguments bad(String name, Consumer<JsonObject> breakIt, String path, String fragment) {
    JsonObject c = valid();
    breakIt.accept(c);
    return Arguments.of(name, c.encodePrettily(), path, fragment);
  }

  static Stream<Arguments> badConfigs() {
    List<Arguments> all = new ArrayList<>();
    all.add(Arguments.of("invalid JSON", "{\n  \"source\": {\"url\": \"x\"},,\n  \"jobs\": []\n}", "", "invalid JSON at line 2"));
    all.add(bad("unknown field", c -> job(c).put("segment", new JsonObject().put("rowz", 10)),
        "jobs[0].segment.rowz", "unknown field"));
    all.add(bad("required field missing", c -> c.remove("jobs"), "jobs", "is required"));
    all.add(bad("wrong value type", c -> job(c).put("concurrency", new JsonObject().put("max", "four")),
        "jobs[0].concurrency.max", "must be a whole number"));
    all.add(bad("source table missing", c -> job(c).getJsonObject("source").put("table", "public.nope"),
        "jobs[0].source.table", "table public.nope does not exist in the source database"));
    all.add(bad("key column missing", c -> job(c).getJsonObject("source").put("key", new JsonArray().add("idd")),
        "jobs[0].source.key", "column \"idd\" does not exist in public.orders"));
    all.add(bad("key empty", c -> job(c).getJsonObject("source").put("key", new JsonArray()),
        "jobs[0].source.key", "must name at least one column"));
    all.add(bad("key not unique", c -> job(c).put("source", new JsonObject().put("table", "dups").put("key", new JsonArray().add("k"))),
        "jobs[0].source.key", "is not unique in public.dups"));
    all.add(bad("key nullable", c -> job(c).put("source", new JsonObject().put("table", "nullkey").put("key", new JsonArray().add("k"))),
        "jobs[0].source.key", "allows NULL"));
    all.add(bad("unknown column in an expression", c -> job(c).put("columns", new JsonObject().put("id", "id").put("total_cents", "round(totl * 100)")),
        "jobs[0].columns.total_cents", "column \"totl\" does not exist"));
    all.add(bad("key not mapped", c -> job(c).put("columns", new JsonObject().put("total", "total")),
        "jobs[0].columns", "key column \"id\" must be mapped"));
    all.add(bad("negative rate", c -> job(c).put("pace", new JsonObject().put("rowsPerSecond", -5)),
        "jobs[0].pace.rowsPerSecond", "must be between"));
    all.add(bad("zero segment size", c -> job(c).put("segment", new JsonObject().put("rows", 0)),
        "jobs[0].segment.rows", "must be between 1 and"));
    all.add(bad("batch larger than segment", c -> job(c).put("segment", new JsonObject().put("rows", 100)).put("batch", new JsonObject().put("rows", 500)),
        "jobs[0].batch.rows", "must not exceed segment.rows"));
    all.add(bad("unknown mode", c -> job(c).put("mode", "fast"), "jobs[0].mode", "must be one of"));
    all.add(bad("server mode across databases", c -> job(c).put("mode", "server"), "jobs[0].mode", "same database"));
    all.add(bad("heartbeat longer than half the lease", c -> c.put("agent", new JsonObject().put("leaseSeconds", 4).put("heartbeatSeconds", 3)),
        "agent.heartbeatSeconds", "at most half of leaseSeconds"));
    all.add(bad("unreachable database", c -> c.getJsonObject("target").put("url", "postgresql://postgres@127.0.0.1:" + EmbeddedDatabase.freePort() + "/x"),
        "target.url", "cannot connect"));
    all.add(bad("database does not exist", c -> c.getJsonObject("target").put("url", pg.url("no_such_db")),
        "target.url", "does not exist"));
    all.add(bad("wrong password", c -> c.getJsonObject("source").put("url",
            "postgresql://" + PW_ROLE + ":wrong-password@" + pg.host() + ":" + pg.port() + "/" + src),
        "source.url", "password authentication failed"));
    all.add(bad("not a PostgreSQL URL", c -> c.getJsonObject("target").put("url", "mysql://root@127.0.0.1/x"),
        "target.url", "must start with postgresql://"));
    // validate said "cannot connect ... The Vertx instance must use a native transport", and PathChoice claimed a row-path fallback.
    all.add(bad("a Unix-domain socket", c -> c.getJsonObject("source").put("url", "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql:5432/app"),
        "source.url", "names a Unix-domain socket (/var/run/postgresql): Sluice connects over TCP only; use the server's TCP address "
            + "(e.g. postgresql://user@127.0.0.1:5432/app)"));
    all.add(bad("environment variable not set", c -> c.getJsonObject("source").put("url",
            "postgresql://postgres:${SLUICE_TEST_UNSET}@" + pg.host() + ":" + pg.port() + "/" + src),
        "source.url", "environment variable SLUICE_TEST_UNSET is not set"));
    all.add(bad("duplicate job name", c -> c.getJsonArray("jobs").add(job(valid()).copy().put("target",
            new JsonObject().put("table", "orders2").put("create", true))),
        "jobs[1].name", "duplicate job name \"orders\""));
    all.add(bad("two jobs writing one table", c -> c.getJsonArray("jobs").add(job(valid()).copy().put("name", "orders_again")),
        "jobs[1].target.table", "another job already writes public.orders"));
    all.add(bad("bad job name", c -> job(c).put("name", "Orders-2024"), "jobs[0].name", "must match"));
    all.add(bad("bad table name", c -> job(c).getJsonObject("source").put("table", "public.orders; DROP TABLE orders"),
        "jobs[0].source.table", "is not a table name"));
    all.add(bad("where is not valid SQL", c -> job(c).getJsonObject("source").put("where", "status = = 'x'"),
        "jobs[0].source.where", "is not a valid condition"));
    // Validation must not run a second statement smuggled into a condition (it would escape the read-only session).
    all.add(bad("where smuggling statements", c -> job(c).getJsonObject("source").put("where",
            "true) ; COMMIT; SET default_transaction_read_only = off; COMMIT; CREATE TABLE public.smuggled (x int); SELECT (1"),
        "jobs[0].source.where", "is not a valid condition"));
    all.add(bad("expression smuggling statements", c -> job(c).put("columns", new JsonObject().put("id", "id")
            .put("x", "1; COMMIT; SET default_transaction_read_only = off; COMMIT; CREATE TABLE public.smuggled (x int); SELECT 1")),
        "jobs[0].columns.x", "is not valid"));
    // Valid SQL once wrapped (WHERE (true) or (true)), but it would escape every segment's key range.
    all.add(bad("where closing its own parenthesis", c -> job(c).getJsonObject("source").put("where", "true) or (true"),
        "jobs[0].source.where", "is not a valid condition: it closes a parenthesis it did not open"));
    all.add(bad("where hiding its parenthesis in a comment", c -> job(c).getJsonObject("source").put("where",
            "status = '(' /* /* */ ( */) or (true /* /* */ ) */"),
        "jobs[0].source.where", "closes a parenthesis it did not open"));
    all.add(bad("expression closing its own parenthesis", c -> job(c).put("columns", new JsonObject().put("id", "id")
            .put("status", "status) || (note")),
        "jobs[0].columns.status", "is not valid: it closes a parenthesis it did not open"));
    all.add(bad("where names an unknown column", c -> job(c).getJsonObject("source").put("where", "statuz <> 'draft'"),
        "jobs[0].source.where", "column \"statuz\" does not exist"));
    all.add(bad("source with inheritance children", c -> job(c).put("source", new JsonObject().put("table", "legacy")
            .put("key", new JsonArray().add("id"))).put("target", new JsonObject().put("table", "legacy").put("create", true)),
        "jobs[0].source.table", "public.legacy has inheritance children (legacy_2024)"));
    all.add(bad("target with inheritance children", c -> job(c).put("target", new JsonObject().put("table", "tparent")),
        "jobs[0].target.table", "public.tparent has inheritance children (tparent_2024)"));
    all.add(bad("create in a schema the target lacks", c -> job(c).getJsonObject("target").put("table", "\"Ar.chive\".orders"),
        "jobs[0].target.table", "schema Ar.chive does not exist in the target database"));
    all.add(bad("create with a type the target lacks", c -> job(c).put("source", new JsonObject().put("table", "moods")
            .put("key", new JsonArray().add("id"))).put("target", new JsonObject().put("table", "moods").put("create", true)),
        "jobs[0].columns.m", "type mood does not exist in the target database"));
    all.add(bad("target keyed by a deferrable constraint", c -> job(c).put("target", new JsonObject().put("table", "deferred")),
        "jobs[0].target.table", "a DEFERRABLE constraint cannot serve them"));
    all.add(bad("target missing without create", c -> job(c).getJsonObject("target").put("create", false),
        "jobs[0].target.table", "does not exist in the target database"));
    all.add(bad("target without a unique key", c -> job(c).getJsonObject("target").put("table", "plain"),
        "jobs[0].target.table", "has no primary key or unique index"));
    all.add(bad("target lacks a mapped column", c -> job(c).put("target", new JsonObject().put("table", "plain"))
            .put("columns", new JsonObject().put("id", "id").put("colour", "status")),
        "jobs[0].columns.colour", "does not exist in target table public.plain"));
    all.add(bad("target key ordering text differently", c -> job(c).put("source", new JsonObject().put("table", "coded")
            .put("key", new JsonArray().add("code"))).put("target", new JsonObject().put("table", "coded")),
        "jobs[0].target.table", "key column \"code\" of public.coded orders text differently on the target (collation pg_catalog.\"default\") "
            + "than on the source (collation pg_catalog.\"en-x-icu\")"));
    all.add(bad("target enum key sorting its labels differently", c -> job(c).put("source", new JsonObject().put("table", "levels")
            .put("key", new JsonArray().add("l"))).put("target", new JsonObject().put("table", "levels")),
        "jobs[0].target.table", "key column \"l\" of public.levels is an enum whose labels the target sorts as (c, a, b) and the source as (a, b, c)"));
    all.add(bad("created table's enum key sorting its labels differently", c -> job(c).put("source", new JsonObject().put("table", "levels")
            .put("key", new JsonArray().add("l"))).put("target", new JsonObject().put("table", "levels2").put("create", true)),
        "jobs[0].target.table", "key column \"l\" of public.levels2 is an enum whose labels the target sorts as (c, a, b)"));
    return all.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badConfigs")
  void badConfigExits2NamesThePathAndWritesNothing(String name, String config, String path, String fragment) throws IOException {
    if (name.equals("wrong password")) {
      assumeTrue(passwordsChecked, "the test server's pg_hba.conf cannot be edited to make it check passwords");
    }
    Env.override(Map.of());
    Path file = Files.writeString(dir.resolve("bad.json"), config);
    String located = path.isEmpty() ? fragment : path + ": ";
    for (String[] args : new String[][] {{"validate", "--config", file.toString()}, {"run", "--until-done", "--config", file.toString()}}) {
      Cli r = Cli.run(args);
      assertEquals(2, r.exit(), args[0] + ": " + r);
      assertTrue(r.err().contains(located), args[0] + " must name " + located + ": " + r);
      assertTrue(r.err().contains(fragment), args[0] + " must say " + fragment + ": " + r);
      assertTrue(r.err().contains("Fix the config and run `sluice validate --config"), args[0] + " must say what to do: " + r);
      assertTrue(!r.err().contains("wrong-password") && !r.out().contains("wrong-password"), "password printed: " + r);
      assertEquals(targetBefore, targetObjects(), args[0] + " changed the target database");
      assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_class WHERE relname = 'smuggled'"), args[0] + " wrote to the source");
    }
  }

  @Test
  void validConfigValidatesWithoutWritingAndTheWrongPasswordRoleIsReal() throws IOException {
    Path file = Files.writeString(dir.resolve("good.json"), valid().encodePrettily());
    Cli r = Cli.run("validate", "--config", file.toString());
    assertEquals(0, r.exit(), r.toString());
    assertEquals(targetBefore, targetObjects(), "validate changed the target database");
    assumeTrue(passwordsChecked, "the test server's pg_hba.conf cannot be edited to make it check passwords");
    // The same URL with the right password is accepted: the failure above is the password's alone.
    JsonObject right = valid();
    right.getJsonObject("source").put("url", "postgresql://" + PW_ROLE + ":${SLUICE_TEST_PW}@" + pg.host() + ":" + pg.port() + "/" + src);
    Env.override(Map.of("SLUICE_TEST_PW", "right-password"));
    Cli ok = Cli.run("validate", "--config", Files.writeString(dir.resolve("pw.json"), right.encodePrettily()).toString());
    assertEquals(0, ok.exit(), ok.toString());
    assertTrue(!ok.out().contains("right-password") && !ok.err().contains("right-password"), "password printed: " + ok);
  }

  @Test
  void missingConfigFileAndBadUsageExit2() {
    Cli r = Cli.run("validate", "--config", dir.resolve("nope.json").toString());
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("does not exist"), r.toString());
    Cli usage = Cli.run("run");
    assertEquals(2, usage.exit(), usage.toString());
    assertTrue(usage.err().contains("--config"), usage.toString());
    Cli none = Cli.run();
    assertEquals(2, none.exit(), none.toString());
    assertTrue(none.err().contains("name a command: run, validate, status, complete, rollback, abort, cleanup, advise, report, "
        + "pause, resume, retry or demo"), none.toString());
  }
}
