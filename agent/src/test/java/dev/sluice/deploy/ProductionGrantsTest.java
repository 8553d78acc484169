package dev.sluice.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.Main;
import dev.sluice.db.Await;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.TestPg;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The role and GRANT script of docs/production.md, taken from the page itself, is enough: a role with
 * exactly those privileges (not a superuser) validates, copies with change capture, catches up writes
 * made meanwhile, completes and verifies, and cleans up after itself: removing the capture triggers
 * needs no ownership of the table.
 */
class ProductionGrantsTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  /** The page's first sql block after "## 2.", in its three parts. */
  private static String[] script() throws Exception {
    String page = Files.readString(Path.of(System.getProperty("user.dir")).resolve("../docs/production.md"));
    Matcher m = Pattern.compile("## 2\\..*?```sql\\n(.*?)```", Pattern.DOTALL).matcher(page);
    assertTrue(m.find(), "docs/production.md has the grants script");
    String sql = m.group(1);
    int source = sql.indexOf("-- In the source database");
    int target = sql.indexOf("-- In the target database");
    assertTrue(source > 0 && target > source, sql);
    return new String[] {sql.substring(0, source), sql.substring(source, target), sql.substring(target)};
  }

  private static String as(String sql, String role, String src, String tgt) {
    return sql.replaceAll("\\b(ROLE|TO|AUTHORIZATION) sluice\\b", "$1 " + role)
        .replace("DATABASE app ", "DATABASE " + src + " ").replace("DATABASE app;", "DATABASE " + src + ";")
        .replace("DATABASE archive ", "DATABASE " + tgt + " ").replace("DATABASE archive;", "DATABASE " + tgt + ";");
  }

  private static String cli(int expected, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    String all = "exit " + exit + "\n" + out + err;
    if (expected >= 0) assertEquals(expected, exit, all);
    return all;
  }

  @Test
  void theDocumentedGrantsAreEnoughForAMigration() throws Exception {
    String src = pg.createDatabase("grants_src");
    String tgt = pg.createDatabase("grants_tgt");
    String role = "sluice_" + src;
    String[] parts = script();
    pg.exec("postgres", as(parts[0], role, src, tgt));
    pg.exec(src, "CREATE TABLE public.orders (id bigint PRIMARY KEY, status text, total numeric(12, 2))",
        "INSERT INTO public.orders SELECT g, 'new', g / 3.0 FROM generate_series(1, 3000) g");
    pg.exec(src, as(parts[1], role, src, tgt));
    pg.exec(tgt, as(parts[2], role, src, tgt));
    assertEquals(0, pg.scalar("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "' AND (rolsuper OR rolcreatedb)"));

    String config = """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "orders", "source": {"table": "public.orders", "key": ["id"]},
                   "target": {"table": "public.orders", "create": true}, "segment": {"rows": 500}}]}"""
        .formatted(pg.url(src).replace("postgres@", role + "@"), pg.url(tgt).replace("postgres@", role + "@"));
    Path file = Files.writeString(dir.resolve("grants.json"), config);
    cli(Main.OK, "validate", "--config", file.toString());

    Agent agent = Agents.start(config);
    try {
      // Writes while it copies: captured and carried over.
      pg.exec(src, "UPDATE public.orders SET status = 'paid' WHERE id % 10 = 0", "DELETE FROM public.orders WHERE id % 97 = 0",
          "INSERT INTO public.orders SELECT g, 'late', 1 FROM generate_series(3001, 3100) g");
      Eventually.until(Duration.ofMinutes(3), "in sync",
          () -> "in_sync".equals(state(tgt)) || "completed".equals(state(tgt)) || "failed".equals(state(tgt)));
      assertEquals("in_sync", state(tgt));
      cli(Main.OK, "complete", "--config", file.toString(), "--job", "orders");
      Eventually.until(Duration.ofMinutes(2), "completed", () -> "completed".equals(state(tgt)));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    String fingerprint = "SELECT count(*) || ':' || sum(hashtext(o::text)) FROM public.orders o";
    assertEquals(pg.string(src, fingerprint), pg.string(tgt, fingerprint), "every row, as on the source");

    // Clean-up removes the capture triggers with their function, which the sluice role owns: it needs no
    // ownership of the table, and leaves nothing of the capture behind on the source.
    String done = cli(Main.OK, "cleanup", "--config", file.toString(), "--job", "orders");
    assertTrue(done.contains("removed"), done);
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.orders'::regclass AND tgname LIKE 'sluice%'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'capture_%' AND pronamespace::regnamespace::text = 'sluice'"));
    assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_class WHERE relname LIKE 'changes_%'"));
    cli(Main.OK, "cleanup", "--config", file.toString(), "--job", "orders"); // again: nothing left to do
    // The schema the DBA made for the role stays (the role could not create it again), so the next job validates.
    assertEquals(1, pg.scalar(src, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sluice'"));
    cli(Main.OK, "validate", "--config", file.toString());
    pg.exec(src, "INSERT INTO public.orders VALUES (9999, 'after', 1)"); // the users' writes no longer fire a trigger
  }

  private String state(String tgt) {
    try {
      return pg.string(tgt, "SELECT state FROM sluice.jobs WHERE name = 'orders'");
    } catch (IllegalStateException e) {
      return null;
    }
  }
}
