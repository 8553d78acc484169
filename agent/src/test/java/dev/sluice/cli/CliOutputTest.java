package dev.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.embedded.EmbeddedDatabase;
import dev.sluice.testing.TestPg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code validate}, {@code run --until-done} and {@code status} print, through the CLI entry point. */
class CliOutputTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private Path config(String src, String tgt, String jobs) throws IOException {
    return Files.writeString(dir.resolve("c.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "agent": {"leaseSeconds": 10, "heartbeatSeconds": 2}, "jobs": [%s]}""".formatted(pg.url(src), pg.url(tgt), jobs));
  }

  @Test
  void validatePrintsThePlanWithSegmentsRowsAndEta() throws IOException {
    String src = pg.createDatabase("clisrc");
    String tgt = pg.createDatabase("clitgt");
    pg.exec(src, "CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, total numeric(12, 2))",
        "INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN 'draft' ELSE 'paid' END, g FROM generate_series(1, 100000) g",
        "ANALYZE orders");
    Path file = config(src, tgt, """
        {"name": "orders", "source": {"table": "public.orders", "key": ["id"]},
         "target": {"table": "public.orders", "create": true},
         "columns": {"id": "id", "total_cents": "round(total * 100)::bigint"},
         "segment": {"rows": 20000}, "batch": {"rows": 2000}, "pace": {"rowsPerSecond": 1000}, "concurrency": {"max": 3}}""");
    Cli r = Cli.run("validate", "--config", file.toString());
    assertEquals(0, r.exit(), r.toString());
    String out = r.out();
    assertTrue(out.contains("config " + file + " is valid"), out);
    assertTrue(out.contains("job orders: public.orders -> public.orders (will be created)"), out);
    assertTrue(out.contains("column total_cents <- round(total * 100)::bigint :: bigint"), out);
    Matcher plan = Pattern.compile("plan: ~(\\d+) rows in ~(\\d+) segments of 20000 rows, batches of 2000, 3 at a time\n").matcher(out);
    assertTrue(plan.find(), out);
    long rows = Long.parseLong(plan.group(1));
    assertTrue(rows > 90_000 && rows < 110_000, "estimated rows " + rows);
    assertEquals((rows + 19_999) / 20_000, Long.parseLong(plan.group(2)), out);
    // ~100,000 rows at 1,000 rows/s: about 1 min 40 s.
    assertTrue(Pattern.compile("estimated time at 1000 rows/s: 1 min [3-5]\\d s").matcher(out).find(), out);
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sluice'"), "validate wrote a ledger");

    // A filter changes the estimate; unpaced jobs say so.
    Path filtered = config(src, tgt, """
        {"name": "orders", "source": {"table": "public.orders", "key": ["id"], "where": "status <> 'draft'"},
         "target": {"table": "public.orders", "create": true}, "segment": {"rows": 10000}}""");
    Cli f = Cli.run("validate", "--config", filtered.toString());
    assertEquals(0, f.exit(), f.toString());
    assertTrue(f.out().contains("where: status <> 'draft'"), f.out());
    Matcher fp = Pattern.compile("plan: ~(\\d+) rows in ~(\\d+) segments").matcher(f.out());
    assertTrue(fp.find(), f.out());
    long frows = Long.parseLong(fp.group(1));
    assertTrue(frows > 40_000 && frows < 60_000, "filtered estimate " + frows);
    assertTrue(f.out().contains("unpaced: the rate is bounded only by the databases"), f.out());
  }

  /** Validate says which path each job's rows take, and why, and how each segment is proved. */
  @Test
  void validateSaysWhichPathEachJobTakesAndWhy() throws IOException {
    String src = pg.createDatabase("pathsrc");
    String tgt = pg.createDatabase("pathtgt");
    pg.exec(src, "CREATE TABLE a (id bigint PRIMARY KEY, v text)", "CREATE TABLE b (id bigint PRIMARY KEY, v text)");
    Path file = config(src, tgt, """
        {"name": "a", "source": {"table": "public.a", "key": ["id"]}, "target": {"table": "public.a", "create": true}},
        {"name": "b", "source": {"table": "public.b", "key": ["id"]}, "target": {"table": "public.b", "create": true},
         "mode": "rows", "verify": {"perSegment": false, "finalPass": false}}""");
    Cli r = Cli.run("validate", "--config", file.toString());
    assertEquals(0, r.exit(), r.toString());
    String out = r.out();
    String a = out.substring(out.indexOf("job a:"), out.indexOf("job b:"));
    String b = out.substring(out.indexOf("job b:"));
    assertTrue(a.contains("path: COPY protocol: source and target are different databases (mode \"auto\")"), out);
    assertTrue(a.contains("verification: each segment read back from the target with COPY"), out);
    assertTrue(a.contains("; a final pass once in sync"), out);
    assertTrue(b.contains("path: row batches (unnest inserts): mode is \"rows\""), out);
    assertTrue(b.contains(", 4 at a time\n"), "the plan line leaves the path to the path line: " + out);
    assertTrue(b.contains("verification: per segment off: a segment counts on the target's own count of rows stored"), out);
    assertTrue(b.contains("; no final pass"), out);

    Path same = config(src, src, """
        {"name": "a", "source": {"table": "public.a", "key": ["id"]}, "target": {"table": "public.a_copy", "create": true}}""");
    Cli s = Cli.run("validate", "--config", same.toString());
    assertEquals(0, s.exit(), s.toString());
    assertTrue(s.out().contains("path: server-side INSERT .. SELECT: source and target are one database (mode \"auto\")"), s.out());
  }

  @Test
  void statusShowsSegmentsByStateAndRowsFromTheLedger() throws IOException {
    String src = pg.createDatabase("stsrc");
    String tgt = pg.createDatabase("sttgt");
    pg.exec(src, "CREATE TABLE items (id int PRIMARY KEY, v text)",
        "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20000) g");
    Path file = config(src, tgt, """
        {"name": "items", "source": {"table": "items", "key": ["id"]}, "target": {"table": "items", "create": true},
         "segment": {"rows": 5000}}""");

    Cli before = Cli.run("status", "--config", file.toString());
    assertEquals(0, before.exit(), before.toString());
    assertTrue(before.out().contains("no ledger in postgresql://postgres@127.0.0.1:" + pg.port() + "/" + tgt + " yet"), before.out());

    Cli run = Cli.run("run", "--until-done", "--config", file.toString());
    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains("job items: completed"), run.out());

    Cli after = Cli.run("status", "--config", file.toString());
    assertEquals(0, after.exit(), after.toString());
    assertTrue(after.out().startsWith("""
        job items: completed
          segments: 4 planned; 4 verified, 0 copied, 0 copying, 0 pending, 0 failed
          rows: 20000 copied of ~20000 planned
        """), after.out());

    // A job the ledger has not seen yet is listed as such; the ledger's own jobs are not confused with it.
    Path more = Files.writeString(dir.resolve("more.json"), Files.readString(file).replace("\"jobs\": [", """
        "jobs": [{"name": "later", "source": {"table": "items", "key": ["id"]}, "target": {"table": "items_later", "create": true}},"""));
    Cli two = Cli.run("status", "--config", more.toString());
    assertEquals(0, two.exit(), two.toString());
    assertTrue(two.out().startsWith("job later: not started\njob items: completed\n"), two.out());

    // An unreachable ledger is a runtime failure (3), and says which database.
    Path down = Files.writeString(dir.resolve("down.json"), Files.readString(file).replace(pg.url(tgt),
        "postgresql://postgres@127.0.0.1:" + EmbeddedDatabase.freePort() + "/" + tgt));
    Cli unreachable = Cli.run("status", "--config", down.toString());
    assertEquals(3, unreachable.exit(), unreachable.toString());
    assertTrue(unreachable.err().contains("cannot read the ledger in postgresql://postgres@127.0.0.1:"), unreachable.toString());
  }
}
