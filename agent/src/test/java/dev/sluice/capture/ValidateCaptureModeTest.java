package dev.sluice.capture;

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
 * {@code sluice validate} prints the capture each job gets, and when logical capture is impossible,
 * why and what to change: for a role without REPLICATION, and for a table whose replica identity does
 * not carry the key. Asking for logical capture then fails validation; auto falls back to the trigger.
 */
class ValidateCaptureModeTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  private String[] validate(String src, String tgt, String user, String mode) throws Exception {
    String url = user == null ? pg.url(src) : pg.url(src).replace("postgres@", user + "@");
    Path cfg = Files.writeString(dir.resolve(mode + (user == null ? "" : user) + ".json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true}, "capture": {"mode": "%s"}}]}"""
        .formatted(url, pg.url(tgt), mode));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }

  @Test
  void validateSaysWhichCaptureEachJobGetsAndWhyNotLogical() throws Exception {
    String src = pg.createDatabase("vm_src");
    String tgt = pg.createDatabase("vm_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");

    String[] auto = validate(src, tgt, null, "auto");
    assertEquals("0", auto[0], auto[2]);
    assertTrue(auto[1].contains("capture: logical (capture.mode is auto and the source allows logical decoding)"), auto[1]);
    String[] trigger = validate(src, tgt, null, "trigger");
    assertTrue(trigger[1].contains("capture: trigger (capture.mode is trigger)"), trigger[1]);

    // The replica identity does not carry the key: deletes would come without it.
    pg.exec(src, "ALTER TABLE items REPLICA IDENTITY NOTHING");
    String[] fallback = validate(src, tgt, null, "auto");
    assertEquals("0", fallback[0], fallback[2]);
    assertTrue(fallback[1].contains("capture: trigger (capture.mode is auto and logical capture is not possible: the replica "
        + "identity of \"public\".\"items\" (REPLICA IDENTITY NOTHING) does not cover the key [id]"), fallback[1]);
    assertTrue(fallback[1].contains("ALTER TABLE \"public\".\"items\" REPLICA IDENTITY USING INDEX"), fallback[1]);
    String[] refused = validate(src, tgt, null, "logical");
    assertEquals(Integer.toString(Main.BAD_CONFIG), refused[0], refused[1]);
    assertTrue(refused[2].contains("jobs[0].capture.mode") && refused[2].contains("logical capture is not possible")
        && refused[2].contains("REPLICA IDENTITY NOTHING"), refused[2]);
    pg.exec(src, "ALTER TABLE items REPLICA IDENTITY DEFAULT");

    // A role that may not replicate (and does not own the table): each problem with its fix.
    String role = "norepl_" + src;
    pg.exec(src, "CREATE ROLE " + role + " LOGIN", "GRANT SELECT, TRIGGER ON items TO " + role, "GRANT CREATE ON DATABASE " + src
        + " TO " + role);
    String[] norepl = validate(src, tgt, role, "logical");
    assertEquals(Integer.toString(Main.BAD_CONFIG), norepl[0], norepl[1]);
    assertTrue(norepl[2].contains("role " + role + " may not replicate") && norepl[2].contains("ALTER ROLE " + role + " REPLICATION"),
        norepl[2]);
    assertTrue(norepl[2].contains("cannot create publication sluice_items") && norepl[2].contains("CREATE PUBLICATION sluice_items"),
        norepl[2]);
    String[] norepl2 = validate(src, tgt, role, "auto");
    assertEquals("0", norepl2[0], norepl2[2]);
    assertTrue(norepl2[1].contains("capture: trigger (capture.mode is auto and logical capture is not possible: role " + role
        + " may not replicate"), norepl2[1]);
    // Neither way: without TRIGGER too, the refusal names the trigger's grant and why logical was ruled out.
    pg.exec(src, "REVOKE TRIGGER ON items FROM " + role);
    String[] neither = validate(src, tgt, role, "auto");
    assertEquals(Integer.toString(Main.BAD_CONFIG), neither[0], neither[1]);
    assertTrue(neither[2].contains("jobs[0].capture: change capture needs TRIGGER on") && neither[2].contains("; and capture.mode is "
        + "auto and logical capture is not possible: role " + role + " may not replicate"), neither[2]);
  }

  /**
   * Two jobs of one config and one free slot: validate said logical for both, and the agent then
   * stopped on the second slot's creation (53400) with the first slot left unread. The second job is
   * told the first takes the slot.
   */
  @Test
  void jobsOfOneConfigShareTheFreeSlots() throws Exception {
    String src = pg.createDatabase("vm_slots_src");
    String tgt = pg.createDatabase("vm_slots_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)");
    int fill = (int) pg.scalar(src, "SELECT current_setting('max_replication_slots')::int - count(*) FROM pg_replication_slots") - 1;
    for (int i = 0; i < fill; i++) pg.exec(src, "SELECT pg_create_physical_replication_slot('vm_fill_" + i + "')");
    try {
      String[] auto = validateTwo(src, tgt, "auto");
      assertEquals("0", auto[0], auto[2]);
      assertTrue(auto[1].contains("job first: public.items -> public.first") && auto[1].contains(
          "capture: logical (capture.mode is auto and the source allows logical decoding)"), auto[1]);
      assertTrue(auto[1].contains("capture: trigger (capture.mode is auto and logical capture is not possible: only 1 of the "),
          auto[1]);
      assertTrue(auto[1].contains("replication slots is free and this config's job first takes it: raise "
          + "max_replication_slots (restart)"), auto[1]);
      String[] logical = validateTwo(src, tgt, "logical");
      assertEquals(Integer.toString(Main.BAD_CONFIG), logical[0], logical[1]);
      assertTrue(logical[2].contains("jobs[1].capture.mode: logical capture is not possible: only 1 of the ")
          && !logical[2].contains("jobs[0].capture"), logical[2]);
    } finally {
      for (int i = 0; i < fill; i++) pg.exec(src, "SELECT pg_drop_replication_slot('vm_fill_" + i + "')");
    }
  }

  private String[] validateTwo(String src, String tgt, String mode) throws Exception {
    Path cfg = Files.writeString(dir.resolve("two-" + mode + ".json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "first", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.first", "create": true}, "capture": {"mode": "%s"}},
                  {"name": "second", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.second", "create": true}, "capture": {"mode": "%s"}}]}"""
        .formatted(pg.url(src), pg.url(tgt), mode, mode));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }
}
