package dev.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.testing.TestPg;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice run} whose HTTP port another program holds (a second agent started on the host with the
 * same config) stops before it does anything, saying which address and what to do. Before, it planned the
 * job, installed its capture and started copying, then exited with {@code cannot start:
 * RuntimeException: java.net.BindException: Address already in use}.
 */
class PortInUseTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  @Test
  void aHeldPortStopsTheStartBeforeAnythingIsWritten() throws Exception {
    String src = pg.createDatabase("port_src");
    String tgt = pg.createDatabase("port_tgt");
    pg.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)", "INSERT INTO items VALUES (1, 'a')");
    try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Path cfg = Files.writeString(dir.resolve("port.json"), """
          {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"host": "127.0.0.1", "port": %d},
           "jobs": [{"name": "items", "source": {"table": "public.items", "key": ["id"]},
                     "target": {"table": "public.items", "create": true}}]}""".formatted(pg.url(src), pg.url(tgt), held.getLocalPort()));
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "run", "--config", cfg.toString(), "--until-done");
      assertEquals(3, exit, out + "\n" + err);
      assertTrue(err.toString().contains("sluice: cannot start: cannot serve HTTP on 127.0.0.1:" + held.getLocalPort()
          + " (Address already in use): another agent or program on this host listens there"), err.toString());
      assertEquals(0, pg.scalar(tgt, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sluice'"), "no ledger written");
      assertEquals(0, pg.scalar(src, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sluice%'"), "no capture installed");
    }
  }
}
