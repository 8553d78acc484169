package dev.sluice.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.Agent;
import dev.sluice.db.Await;
import dev.sluice.ledger.JobState;
import dev.sluice.testing.Agents;
import dev.sluice.testing.Eventually;
import dev.sluice.testing.Tables;
import dev.sluice.testing.TestPg;
import dev.sluice.testing.TlsPg;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Logical capture from a source that admits its role only over TLS with a client certificate
 * ({@code sluice_cert}, {@code hostssl ... cert}; sslmode verify-full against the test CA): the WAL
 * reader's replication connection and its changelog session use the same connection settings as the
 * agent's pools, so the job captures changes made during the copy through the slot and ends equal.
 * (The reader used to get the sslmode alone: no root certificate, no client certificate.)
 */
class LogicalTlsTest {
  private final TlsPg tls = TlsPg.get();
  private final TestPg pg = TestPg.get();

  @Test
  void theWalReaderConnectsWithTheSourcesTlsSettings() throws Exception {
    String src = tls.createDatabase("ltls_src");
    String tgt = pg.createDatabase("ltls_tgt");
    tls.exec(src, "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3000) g");
    String config = """
        {"source": {"url": "postgresql://localhost:%d/%s", "user": "sluice_cert", "sslMode": "verify-full",
                    "sslRootCert": "%s", "sslCert": "%s", "sslKey": "%s"},
         "target": {"url": "%s"}, "http": {"enabled": false}, "health": {"foreground": {"enabled": false}},
         "jobs": [{"name": "tlsitems", "source": {"table": "public.items", "key": ["id"]},
           "target": {"table": "public.items", "create": true}, "segment": {"rows": 500}, "pace": {"rowsPerSecond": 1500},
           "capture": {"mode": "logical", "pollMs": 200, "inSyncRows": 20}}]}"""
        .formatted(tls.port(), src, tls.certs.ca(), tls.certs.clientCert(), tls.certs.clientKey(), pg.url(tgt));
    Agent agent = Agents.start(config);
    try (Connection c = tls.connect(src); Statement s = c.createStatement()) {
      Eventually.until(Duration.ofSeconds(60), "the slot read", () -> tls.scalar(src,
          "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_tlsitems' AND active") == 1);
      for (int i = 1; i <= 3000; i += 37) s.execute("UPDATE items SET name = name || ' changed' WHERE id = " + i);
      s.execute("DELETE FROM items WHERE id % 101 = 0");
      s.execute("INSERT INTO items SELECT g, 'late ' || g FROM generate_series(3001, 3050) g");
      // The reader's session is TLS with the client certificate, like the pools'.
      assertEquals("true CN=sluice_cert", tls.string(src, "SELECT s.ssl::text || ' ' || coalesce(s.client_dn, '') FROM pg_stat_ssl s "
          + "JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'sluice-wal' AND a.backend_type = 'walsender'").replace("/", ""));
      Map<String, JobState> states = Await.result(agent.untilDone(), 2, TimeUnit.MINUTES);
      assertEquals(JobState.COMPLETED, states.get("tlsitems"));
    } finally {
      Await.result(agent.stop(), 1, TimeUnit.MINUTES);
    }
    try (Connection a = tls.connect(src); Connection b = pg.connect(tgt)) {
      long n = Tables.assertSameRows(a, "SELECT row(id, name)::text FROM items ORDER BY id", b, "SELECT row(id, name)::text FROM items ORDER BY id");
      assertTrue(n > 2900, "rows compared: " + n);
    }
    assertEquals("logical", pg.string(tgt, "SELECT capture_mode FROM sluice.jobs WHERE name = 'tlsitems'"));
    assertEquals(0, pg.scalar(tgt, "SELECT coalesce((verify_report->>'repaired')::int, 0) FROM sluice.jobs WHERE name = 'tlsitems'"),
        "the changes arrived through the slot");
  }
}
