package dev.sluice.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * {@code sluice validate} (and so the start of {@code run}) says what the target's role lacks for the
 * ledger, with the statement that grants it. Before, validate said the config was valid and {@code run}
 * then failed with PostgreSQL's bare {@code cannot start: 42501 permission denied for database ..}.
 */
class LedgerPrivilegesTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private static String[] validate(Path cfg) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    return new String[] {String.valueOf(exit), out + "\n" + err};
  }

  @Test
  void validateNamesWhatTheLedgerNeeds() throws Exception {
    String src = pg.createDatabase("lp_src");
    String tgt = pg.createDatabase("lp_tgt");
    String role = "ledger_" + tgt;
    pg.exec("postgres", "CREATE ROLE " + role + " LOGIN", "REVOKE CREATE ON DATABASE " + tgt + " FROM PUBLIC");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "GRANT SELECT ON items TO " + role);
    pg.exec(tgt, "GRANT USAGE, CREATE ON SCHEMA public TO " + role);
    Path cfg = Files.writeString(dir.resolve("lp.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true}, "capture": {"enabled": false}}]}"""
        .formatted(pg.url(src).replace("postgres@", role + "@"), pg.url(tgt).replace("postgres@", role + "@")));

    // No schema sluice, no CREATE on the database.
    String[] r = validate(cfg);
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains("target: the ledger (schema sluice in database " + tgt + ") needs CREATE on database " + tgt
        + ", which role " + role + " lacks: as a superuser, in " + tgt + ", CREATE SCHEMA sluice AUTHORIZATION " + role), r[1]);

    // A schema sluice someone else created, with no rights on it for the role.
    pg.exec(tgt, "CREATE SCHEMA sluice");
    r = validate(cfg);
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains("target: the ledger needs USAGE and CREATE on schema sluice in database " + tgt
        + ", which role " + role + " lacks: ALTER SCHEMA sluice OWNER TO " + role), r[1]);

    // A ledger another role made (an agent run once as a superuser): its tables are not the role's to write.
    pg.exec(tgt, "GRANT USAGE, CREATE ON SCHEMA sluice TO " + role, "CREATE TABLE sluice.jobs (name text PRIMARY KEY)");
    r = validate(cfg);
    assertEquals(String.valueOf(Main.BAD_CONFIG), r[0], r[1]);
    assertTrue(r[1].contains("role " + role + " may not write the ledger's tables sluice.jobs (another role owns them)"), r[1]);

    // As docs/production.md says: the schema, the role's own.
    pg.exec(tgt, "DROP SCHEMA sluice CASCADE", "CREATE SCHEMA sluice AUTHORIZATION " + role);
    r = validate(cfg);
    assertEquals(String.valueOf(Main.OK), r[0], r[1]);
  }
}
