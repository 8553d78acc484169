package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
import dev.sluice.inspect.JobShape;
import dev.sluice.migrate.LedgerChecks;
import dev.sluice.testing.Shapes;
import dev.sluice.testing.TestPg;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes made with {@code session_replication_role = replica}: how a logical replication subscription
 * applies its changes (a source table fed by a subscription), and how replication tools (pglogical,
 * Bucardo) and bulk loaders skip triggers and foreign keys. Capture triggers enabled the ordinary way do not
 * fire for them: such writes were never captured, and a row changed after the final pass read it stayed
 * wrong on the target. Sluice makes its triggers {@code ENABLE ALWAYS} when its role owns the table (an
 * earlier build's are replaced); a role with only the TRIGGER privilege cannot, and validate says so.
 */
class ReplicaRoleCaptureTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  @Test
  void writesMadeAsAReplicaAreCapturedWhenTheRoleOwnsTheTable() throws Exception {
    String src = pg.createDatabase("rr_src");
    String tgt = pg.createDatabase("rr_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 10) g",
        // What an earlier build installed: a trigger enabled the ordinary way.
        "CREATE SCHEMA sluice", "CREATE FUNCTION sluice.capture_items() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
        "CREATE TRIGGER sluice_capture_items_ins AFTER INSERT ON items REFERENCING NEW TABLE AS sluice_new "
            + "FOR EACH STATEMENT EXECUTE FUNCTION sluice.capture_items()");
    String config = LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
         "capture": {"mode": "trigger"}}""");
    install(config);
    assertEquals("A,A,A", pg.string(src, "SELECT string_agg(tgenabled::text, ',') FROM pg_trigger WHERE tgrelid = 'items'::regclass"));
    pg.exec(src, "SET session_replication_role = replica", "INSERT INTO items VALUES (11, 0)", "UPDATE items SET v = 1 WHERE id = 2",
        "DELETE FROM items WHERE id = 3");
    assertEquals("2,3,11", pg.string(src, "SELECT string_agg(k, ',' ORDER BY k::bigint) FROM (SELECT DISTINCT key[1] AS k FROM sluice.changes_items) x"),
        "every key a replica session changed");
    String out = validate(config);
    assertTrue(out.contains("  capture: trigger (capture.mode is trigger)\n"), out);
  }

  @Test
  void aRoleWithOnlyTheTriggerPrivilegeInstallsCaptureAndValidateSaysWhatItMisses() throws Exception {
    String src = pg.createDatabase("rr_src2");
    String tgt = pg.createDatabase("rr_tgt2");
    String role = "rr_" + src;
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", "INSERT INTO items SELECT g, 0 FROM generate_series(1, 10) g",
        "CREATE ROLE " + role + " LOGIN", "GRANT SELECT, TRIGGER ON items TO " + role, "GRANT CREATE ON DATABASE " + src + " TO " + role);
    String config = LedgerChecks.config(pg, src, tgt, """
        {"name": "items", "source": {"table": "public.items", "key": ["id"]}, "target": {"table": "public.items", "create": true},
         "capture": {"mode": "trigger"}}""").replace(pg.url(src), pg.url(src).replace("postgres@", role + "@"));
    String out = validate(config);
    assertTrue(out.contains("  capture: trigger (capture.mode is trigger; the role does not own the source table, so its capture triggers "
        + "cannot be made ENABLE ALWAYS: writes made with session_replication_role = replica"), out);
    install(config);
    assertEquals("O,O,O", pg.string(src, "SELECT string_agg(tgenabled::text, ',') FROM pg_trigger WHERE tgrelid = 'items'::regclass"));
    pg.exec(src, "INSERT INTO items VALUES (11, 0)");
    assertEquals(1, pg.scalar(src, "SELECT count(*) FROM sluice.changes_items"), "ordinary writes are captured");
  }

  private void install(String json) throws Exception {
    SluiceConfig config = ConfigLoader.parse(json);
    Vertx vertx = Vertx.vertx();
    Pool source = Databases.pool(vertx, config.source(), "sluice-test-source", 2);
    Pool target = Databases.pool(vertx, config.target(), "sluice-test-target", 2);
    try {
      JobShape shape = Shapes.first(config, source, target);
      Await.result(ChangeCapture.install(source, shape));
    } finally {
      Await.result(source.close());
      Await.result(target.close());
      Await.result(vertx.close());
    }
  }

  private String validate(String json) throws Exception {
    Path cfg = Files.writeString(dir.resolve("rr.json"), json);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    assertEquals(0, exit, out + "\n" + err);
    return out.toString();
  }
}
