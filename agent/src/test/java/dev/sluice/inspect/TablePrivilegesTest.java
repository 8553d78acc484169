package dev.sluice.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.testing.TestPg;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice validate} (and so {@code run}, which validates first) says what the job's role may not do with the job's
 * tables, with the GRANT that fixes it. Before, validate said such a config was valid and {@code run} failed with
 * PostgreSQL's bare {@code cannot start: 42501 permission denied for schema public}; a source the role could not read was
 * blamed on the first column's "expression".
 */
class TablePrivilegesTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new String[] {String.valueOf(exit), out + "\n" + err};
  }

  private Path config(String name, String src, String tgt, String role, boolean create) throws Exception {
    return Files.writeString(dir.resolve(name + ".json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": %s}, "capture": {"enabled": false}}]}"""
        .formatted(pg.url(src).replace("postgres@", role + "@"), pg.url(tgt).replace("postgres@", role + "@"), create));
  }

  @Test
  void validateNamesTheGrantsTheTablesNeed() throws Exception {
    String src = pg.createDatabase("tp_src");
    String tgt = pg.createDatabase("tp_tgt");
    String role = "tables_" + tgt;
    pg.exec("postgres", "CREATE ROLE " + role + " LOGIN");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    // The ledger is the role's own (as docs/production.md says); the target's schema public takes no CREATE from
    // anyone (PostgreSQL 15's default; 14 and older granted it to PUBLIC).
    pg.exec(tgt, "CREATE SCHEMA sluice AUTHORIZATION " + role, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    Path create = config("create", src, tgt, role, true);

    // A source table the role may not read.
    String[] r = run("validate", "--config", create.toString());
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains("jobs[0].source.table: role " + role + " may not read public.items (no SELECT on it): as its owner or a "
        + "superuser, GRANT SELECT ON public.items TO " + role), r[1]);
    assertFalse(r[1].contains("is not valid"), "no column expression is blamed: " + r[1]);

    // target.create without CREATE on the target's schema; `run` refuses at its start, writing nothing.
    pg.exec(src, "GRANT SELECT ON items TO " + role);
    r = run("validate", "--config", create.toString());
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    String needsCreate = "jobs[0].target.table: creating public.items (target.create) needs CREATE on schema public in database " + tgt
        + ", which role " + role + " lacks: as the schema's owner or a superuser, GRANT CREATE ON SCHEMA public TO " + role;
    assertTrue(r[1].contains(needsCreate), r[1]);
    r = run("run", "--config", create.toString(), "--until-done");
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains(needsCreate), r[1]);
    assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "nothing created");

    // An existing target table the role may read and insert into, but not update or delete from.
    pg.exec(tgt, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "GRANT SELECT, INSERT ON items TO " + role);
    Path existing = config("existing", src, tgt, role, false);
    r = run("validate", "--config", existing.toString());
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains("jobs[0].target.table: role " + role + " lacks UPDATE, DELETE on public.items, which Sluice needs (SELECT to "
        + "read back and verify what it wrote, INSERT to copy, UPDATE to apply captured changes and repairs, DELETE to copy a range "
        + "again, apply deletes and roll back): as its owner or a superuser, GRANT UPDATE, DELETE ON public.items TO " + role), r[1]);

    // Column grants on every mapped column serve for SELECT, INSERT and UPDATE; DELETE is the table's.
    pg.exec(tgt, "REVOKE ALL ON items FROM " + role, "GRANT SELECT (id, name), INSERT (id, name), UPDATE (id, name) ON items TO " + role);
    r = run("validate", "--config", existing.toString());
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains("role " + role + " lacks DELETE on public.items"), r[1]);
    pg.exec(tgt, "GRANT DELETE ON items TO " + role);
    r = run("validate", "--config", existing.toString());
    assertEquals(String.valueOf(Main.OK), r[0], r[1]);
    // A column left out of the grants: INSERT through it is refused.
    pg.exec(tgt, "REVOKE INSERT ON items FROM " + role, "GRANT INSERT (id) ON items TO " + role);
    r = run("validate", "--config", existing.toString());
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains("role " + role + " lacks INSERT on public.items"), r[1]);

    // With the schema's CREATE, target.create validates.
    pg.exec(tgt, "DROP TABLE items", "GRANT CREATE ON SCHEMA public TO " + role);
    r = run("validate", "--config", create.toString());
    assertEquals(String.valueOf(Main.OK), r[0], r[1]);
  }
}
