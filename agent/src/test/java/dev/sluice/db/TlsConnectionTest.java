package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.DatabaseConfig.SslMode;
import dev.sluice.config.DatabaseConfig.Tls;
import dev.sluice.config.SessionLimits;
import dev.sluice.testing.Async;
import dev.sluice.testing.TlsPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Row;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS against a real PostgreSQL serving a certificate from a CA made for the test ({@link TlsPg}), through
 * both of Sluice's clients, built from one {@link ConnectionSettings}: vertx-pg-client and pgjdbc. Each
 * case asks the server itself ({@code pg_stat_ssl}) whether the session is encrypted and as whom.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class TlsConnectionTest {
  private static TlsPg pg;

  @BeforeAll
  static void setUp() {
    pg = TlsPg.get();
  }

  private static Tls tls(SslMode mode, Path root) {
    return new Tls(mode, root == null ? null : root.toString(), null, null);
  }

  private static DatabaseConfig tlsRole(String host, Tls tls) {
    return pg.database(host, "postgres", "sluice_tls", TlsPg.TLS_PASSWORD, null, tls);
  }

  /** "ssl=true user=sluice_tls" from the server's view of a Vert.x session. */
  private static Future<String> viaVertx(Vertx vertx, DatabaseConfig db) {
    return Databases.connect(vertx, db, "sluice-tls-test").compose(c -> c
        .query("SELECT ssl, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()").execute()
        .map(rows -> {
          Row r = rows.iterator().next();
          return "ssl=" + r.getBoolean(0) + " user=" + r.getString(1);
        })
        .eventually(c::close));
  }

  /** The same through pgjdbc, with the same settings (blocking: on a worker). */
  private static String viaJdbc(DatabaseConfig db) throws Exception {
    try (Connection c = ConnectionSettings.of(db, "sluice-tls-test", SessionLimits.NONE).openJdbc();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT ssl, current_user, current_setting('TimeZone') FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
      r.next();
      assertEquals("UTC", r.getString(3), "JDBC sessions print times as the Vert.x ones do");
      return "ssl=" + r.getBoolean(1) + " user=" + r.getString(2);
    }
  }

  private static Future<Void> bothConnect(Vertx vertx, VertxTestContext ctx, DatabaseConfig db, String expected) {
    return viaVertx(vertx, db)
        .compose(v -> {
          ctx.verify(() -> assertEquals(expected, v, "vertx-pg-client, " + db));
          return Async.blocking(vertx, () -> viaJdbc(db));
        })
        .map(j -> {
          ctx.verify(() -> assertEquals(expected, j, "pgjdbc, " + db));
          return null;
        });
  }

  /**
   * Both clients refuse; gives the Vert.x refusal as the blocking client reported it (for checks
   * that it says why): a runtime exception's message and cause, or a checked one wrapped.
   */
  private static Future<String> bothRefuse(Vertx vertx, VertxTestContext ctx, DatabaseConfig db) {
    return viaVertx(vertx, db).map(ok -> (Throwable) null).otherwise(e -> e)
        .compose(refused -> {
          ctx.verify(() -> assertNotNull(refused, "vertx-pg-client must refuse " + db));
          return Async.blocking(vertx, () -> {
            try {
              viaJdbc(db);
              return false;
            } catch (Exception e) {
              return true;
            }
          }).map(jdbcRefused -> {
            ctx.verify(() -> assertTrue(jdbcRefused, "pgjdbc must refuse " + db));
            return refused instanceof RuntimeException ? refused.getMessage() + " " + refused.getCause() : refused + " " + refused;
          });
        });
  }

  @Test
  void requireEncryptsWithoutCheckingTheServer(Vertx vertx, VertxTestContext ctx) {
    bothConnect(vertx, ctx, tlsRole("127.0.0.1", tls(SslMode.REQUIRE, null)), "ssl=true user=sluice_tls")
        // prefer (the default) takes TLS when the server offers it
        .compose(v -> bothConnect(vertx, ctx, tlsRole("127.0.0.1", Tls.DEFAULT), "ssl=true user=sluice_tls"))
        // and the server refuses this role without TLS: the cases above really used it
        .compose(v -> bothRefuse(vertx, ctx, tlsRole("127.0.0.1", tls(SslMode.DISABLE, null))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void verifyFullAcceptsTheRightCaAndHostName(Vertx vertx, VertxTestContext ctx) {
    bothConnect(vertx, ctx, tlsRole("localhost", tls(SslMode.VERIFY_FULL, pg.certs.ca())), "ssl=true user=sluice_tls")
        .compose(v -> bothConnect(vertx, ctx, tlsRole("localhost", tls(SslMode.VERIFY_CA, pg.certs.ca())), "ssl=true user=sluice_tls"))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aWrongCaIsRefused(Vertx vertx, VertxTestContext ctx) {
    Future<Void> chain = Future.succeededFuture();
    for (SslMode mode : List.of(SslMode.VERIFY_FULL, SslMode.VERIFY_CA, SslMode.REQUIRE)) {
      // require with a root certificate checks the chain, as libpq's does
      chain = chain.compose(v -> bothRefuse(vertx, ctx, tlsRole("localhost", tls(mode, pg.certs.otherCa()))))
          .map(why -> {
            ctx.verify(() -> assertTrue(why.toLowerCase().contains("certif") || why.contains("PKIX"), mode + ": " + why));
            return null;
          });
    }
    // The JDK's CAs do not know the test CA either.
    chain.compose(v -> bothRefuse(vertx, ctx, tlsRole("localhost", new Tls(SslMode.VERIFY_FULL, DatabaseConfig.SYSTEM_ROOTS, null, null))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aWrongHostNameIsRefusedUnderVerifyFullOnly(Vertx vertx, VertxTestContext ctx) {
    // The server's certificate names localhost, not 127.0.0.1.
    bothRefuse(vertx, ctx, tlsRole("127.0.0.1", tls(SslMode.VERIFY_FULL, pg.certs.ca())))
        .compose(why -> {
          ctx.verify(() -> assertTrue(why.contains("127.0.0.1") || why.toLowerCase().contains("subject alternative")
              || why.toLowerCase().contains("hostname"), why));
          return bothConnect(vertx, ctx, tlsRole("127.0.0.1", tls(SslMode.VERIFY_CA, pg.certs.ca())), "ssl=true user=sluice_tls");
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aClientCertificateLogsIn(Vertx vertx, VertxTestContext ctx) {
    Tls withCert = new Tls(SslMode.VERIFY_FULL, pg.certs.ca().toString(), pg.certs.clientCert().toString(), pg.certs.clientKey().toString());
    bothConnect(vertx, ctx, pg.database("localhost", "postgres", "sluice_cert", null, null, withCert), "ssl=true user=sluice_cert")
        .compose(v -> bothRefuse(vertx, ctx, pg.database("localhost", "postgres", "sluice_cert", null, null, tls(SslMode.VERIFY_FULL, pg.certs.ca()))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aUrlWrittenAsForPsqlConnects(Vertx vertx, VertxTestContext ctx) {
    // The password holds @ : / # and a space, percent-encoded as libpq wants; TLS in the URL's parameters.
    String url = "postgresql://sluice_tls:tls%20p%40ss%3Aw%2Frd%231@localhost:" + pg.port() + "/postgres?sslmode=verify-full&sslrootcert="
        + pg.certs.ca();
    String config = "{\"source\": {\"url\": \"" + url + "\"}, \"target\": {\"url\": \"" + url + "\"},"
        + " \"jobs\": [{\"name\": \"a\", \"source\": {\"table\": \"t\", \"key\": [\"id\"]}, \"target\": {\"table\": \"t2\"}}]}";
    DatabaseConfig db = ConfigLoader.parse(config).source();
    assertEquals(TlsPg.TLS_PASSWORD, db.password());
    assertEquals(SslMode.VERIFY_FULL, db.tls().mode());
    bothConnect(vertx, ctx, db, "ssl=true user=sluice_tls").onComplete(ctx.succeedingThenComplete());
  }
}
