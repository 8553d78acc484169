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

/** {@code sluice validate} says when the source role cannot install change capture. */
class CapturePrivilegesTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  @Test
  void validateNamesTheMissingPrivileges() throws Exception {
    String src = pg.createDatabase("pv_src");
    String tgt = pg.createDatabase("pv_tgt");
    String role = "reader_" + src;
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "CREATE ROLE " + role + " LOGIN",
        "GRANT SELECT ON items TO " + role);
    String url = pg.url(src).replace("postgres@", role + "@");
    Path cfg = Files.writeString(dir.resolve("pv.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                   "target": {"table": "public.items", "create": true}}]}""".formatted(url, pg.url(tgt)));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    assertEquals(Main.BAD_CONFIG, exit, out + "\n" + err);
    assertTrue(err.toString().contains("jobs[0].capture"), err.toString());
    assertTrue(err.toString().contains("TRIGGER on public.items and CREATE on the source database"), err.toString());

    // With the privileges granted, the same config validates.
    pg.exec(src, "GRANT TRIGGER ON items TO " + role, "GRANT CREATE ON DATABASE " + src + " TO " + role);
    StringWriter err2 = new StringWriter();
    int ok = Main.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err2, true), "validate", "--config", cfg.toString());
    assertEquals(Main.OK, ok, err2.toString());
  }
}
