package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.DatabaseConfig.SslMode;
import dev.sluice.config.DatabaseConfig.Tls;
import dev.sluice.config.SessionLimits;
import dev.sluice.testing.TlsPg;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS against a real PostgreSQL serving a certificate from a CA made for the test ({@link TlsPg}), through
 * both of Sluice's clients, built from one {@link ConnectionSettings}: vertx-pg-client and pgjdbc. Each
 * case asks the server itself ({@code pg_stat_ssl}) whether the session is encrypted and as whom.
 */
class TlsConnectionTest {
  private static TlsPg pg;
  private static Vertx vertx;

  @BeforeAll
  static void setUp() {
    pg = TlsPg.get();
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void tearDown() {
    Await.result(vertx.close());
  }

  private static Tls tls(SslMode mode, Path root) {
    return new Tls(mode, root == null ? null : root.toString(), null, null);
  }

  private static DatabaseConfig tlsRole(String host, Tls tls) {
    return pg.database(host, "postgres", "sluice_tls", TlsPg.TLS_PASSWORD, null, tls);
  }

  /** "ssl=true user=sluice_tls" from the server's view of a Vert.x session. */
  private static String viaVertx(DatabaseConfig db) {
    PgConnection c = Await.result(Databases.connect(vertx, db, "sluice-tls-test"), 30, TimeUnit.SECONDS);
    try {
      Row r = Await.result(c.query("SELECT ssl, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()").execute(), 30, TimeUnit.SECONDS)
          .iterator().next();
      return "ssl=" + r.getBoolean(0) + " user=" + r.getString(1);
    } finally {
      Await.result(c.close());
    }
  }

  /** The same through pgjdbc, with the same settings. */
  private static String viaJdbc(DatabaseConfig db) throws Exception {
    try (Connection c = ConnectionSettings.of(db, "sluice-tls-test", SessionLimits.NONE).openJdbc();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT ssl, current_user, current_setting('TimeZone') FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
      r.next();
      assertEquals("UTC", r.getString(3), "JDBC sessions print times as the Vert.x ones do");
      return "ssl=" + r.getBoolean(1) + " user=" + r.getString(2);
    }
  }

  private static void bothConnect(DatabaseConfig db, String expected) throws Exception {
    assertEquals(expected, viaVertx(db), "vertx-pg-client, " + db);
    assertEquals(expected, viaJdbc(db), "pgjdbc, " + db);
  }

  /** Both clients refuse; returns the Vert.x message (for checks that it says why). */
  private static String bothRefuse(DatabaseConfig db) {
    RuntimeException v = assertThrows(RuntimeException.class, () -> viaVertx(db), "vertx-pg-client must refuse " + db);
    assertThrows(Exception.class, () -> viaJdbc(db), "pgjdbc must refuse " + db);
    return String.valueOf(v.getMessage()) + " " + v.getCause();
  }

  @Test
  void requireEncryptsWithoutCheckingTheServer() throws Exception {
    bothConnect(tlsRole("127.0.0.1", tls(SslMode.REQUIRE, null)), "ssl=true user=sluice_tls");
    // prefer (the default) takes TLS when the server offers it
    bothConnect(tlsRole("127.0.0.1", Tls.DEFAULT), "ssl=true user=sluice_tls");
    // and the server refuses this role without TLS: the cases above really used it
    bothRefuse(tlsRole("127.0.0.1", tls(SslMode.DISABLE, null)));
  }

  @Test
  void verifyFullAcceptsTheRightCaAndHostName() throws Exception {
    bothConnect(tlsRole("localhost", tls(SslMode.VERIFY_FULL, pg.certs.ca())), "ssl=true user=sluice_tls");
    bothConnect(tlsRole("localhost", tls(SslMode.VERIFY_CA, pg.certs.ca())), "ssl=true user=sluice_tls");
  }

  @Test
  void aWrongCaIsRefused() {
    for (SslMode mode : new SslMode[] {SslMode.VERIFY_FULL, SslMode.VERIFY_CA, SslMode.REQUIRE}) {
      // require with a root certificate checks the chain, as libpq's does
      String why = bothRefuse(tlsRole("localhost", tls(mode, pg.certs.otherCa())));
      assertTrue(why.toLowerCase().contains("certif") || why.contains("PKIX"), mode + ": " + why);
    }
    // The JDK's CAs do not know the test CA either.
    bothRefuse(tlsRole("localhost", new Tls(SslMode.VERIFY_FULL, DatabaseConfig.SYSTEM_ROOTS, null, null)));
  }

  @Test
  void aWrongHostNameIsRefusedUnderVerifyFullOnly() throws Exception {
    // The server's certificate names localhost, not 127.0.0.1.
    String why = bothRefuse(tlsRole("127.0.0.1", tls(SslMode.VERIFY_FULL, pg.certs.ca())));
    assertTrue(why.contains("127.0.0.1") || why.toLowerCase().contains("subject alternative") || why.toLowerCase().contains("hostname"), why);
    bothConnect(tlsRole("127.0.0.1", tls(SslMode.VERIFY_CA, pg.certs.ca())), "ssl=true user=sluice_tls");
  }

  @Test
  void aClientCertificateLogsIn() throws Exception {
    Tls withCert = new Tls(SslMode.VERIFY_FULL, pg.certs.ca().toString(), pg.certs.clientCert().toString(), pg.certs.clientKey().toString());
    bothConnect(pg.database("localhost", "postgres", "sluice_cert", null, null, withCert), "ssl=true user=sluice_cert");
    bothRefuse(pg.database("localhost", "postgres", "sluice_cert", null, null, tls(SslMode.VERIFY_FULL, pg.certs.ca())));
  }

  @Test
  void aUrlWrittenAsForPsqlConnects() throws Exception {
    // The password holds @ : / # and a space, percent-encoded as libpq wants; TLS in the URL's parameters.
    String url = "postgresql://sluice_tls:tls%20p%40ss%3Aw%2Frd%231@localhost:" + pg.port() + "/postgres?sslmode=verify-full&sslrootcert="
        + pg.certs.ca();
    String config = "{\"source\": {\"url\": \"" + url + "\"}, \"target\": {\"url\": \"" + url + "\"},"
        + " \"jobs\": [{\"name\": \"a\", \"source\": {\"table\": \"t\", \"key\": [\"id\"]}, \"target\": {\"table\": \"t2\"}}]}";
    DatabaseConfig db = ConfigLoader.parse(config).source();
    assertEquals(TlsPg.TLS_PASSWORD, db.password());
    assertEquals(SslMode.VERIFY_FULL, db.tls().mode());
    bothConnect(db, "ssl=true user=sluice_tls");
  }
}
