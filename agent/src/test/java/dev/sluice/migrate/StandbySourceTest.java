package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.RestartablePg;
import dev.sluice.testing.TestPg;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hot standby as the source (to keep the copy's reads off the primary) or, by mistake, as the
 * target. Before, either failed at the agent's start with PostgreSQL's "cannot execute CREATE .. in a
 * read-only transaction". Validation now says what to do: capture needs the primary; a plain copy
 * ({@code capture.enabled: false}) from the standby is fine, and runs to completion here; a standby
 * cannot be the target.
 */
class StandbySourceTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  @Test
  void captureNeedsThePrimaryAndAPlainCopyRunsFromTheStandby() throws Exception {
    String tgt = pg.createDatabase("sb_tgt");
    try (RestartablePg primary = RestartablePg.start()) {
      primary.exec("postgres", "CREATE DATABASE app");
      primary.exec("app", "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
          "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5000) g");
      try (RestartablePg standby = primary.standbyCopy()) {
        assertEquals(1, standby.scalar("app", "SELECT pg_is_in_recovery()::int"));
        String job = """
            {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
             "segment": {"rows": 1000}%s}""";
        String[] run = validate(config(standby.url("app"), pg.url(tgt), job.formatted("")));
        assertEquals(String.valueOf(Main.BAD_CONFIG), run[0], run[1] + run[2]);
        assertTrue(run[2].contains("jobs[0].capture: the source is a standby (in recovery, read-only): change capture needs the primary")
            && run[2].contains("or set capture.enabled to false for a plain copy from the standby"), run[2]);

        // The agent validates at its start as `sluice validate` does.
        String plain = config(standby.url("app"), pg.url(tgt), job.formatted(", \"capture\": {\"enabled\": false}"));
        Map<String, JobState> states = Agents.runUntilDone(plain);
        assertEquals(JobState.COMPLETED, states.get("items"));
        assertEquals(5000, pg.scalar(tgt, "SELECT count(*) FROM items"));
        LedgerChecks.assertAllVerified(pg, tgt, "items", 5000);

        String src = pg.createDatabase("sb_src");
        pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
        run = validate(config(pg.url(src), standby.url("app"), job.formatted("")));
        assertEquals(String.valueOf(Main.BAD_CONFIG), run[0], run[1] + run[2]);
        assertTrue(run[2].contains("target: the target is a standby (in recovery, read-only)"), run[2]);
      }
    }
  }

  private static String config(String source, String target, String job) {
    return """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false}, "health": {"foreground": {"enabled": false}},
         "jobs": [%s]}""".formatted(source, target, job);
  }

  /** Exit code, standard output, standard error. */
  private String[] validate(String json) throws Exception {
    Path cfg = Files.writeString(dir.resolve("standby.json"), json);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    return new String[] {String.valueOf(exit), out.toString(), err.toString()};
  }
}
