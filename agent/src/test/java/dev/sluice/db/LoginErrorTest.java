package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.DatabaseConfig.SslMode;
import dev.sluice.config.DatabaseConfig.Tls;
import dev.sluice.config.Env;
import dev.sluice.testing.TlsPg;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A login that fails says why, against a server that accepts the role over TLS only ({@code hostnossl ..
 * reject}, as production servers often do), under the default {@code sslmode=prefer}: vertx-pg-client asks
 * again without TLS after any failure, and that answer ({@code pg_hba.conf rejects connection .., no
 * encryption}) hid the real one (a wrong password, no password at all), which sent users to look at TLS.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class LoginErrorTest {
  private static final Tls PREFER = new Tls(SslMode.PREFER, null, null, null);
  private static TlsPg pg;

  @BeforeAll
  static void setUp() {
    pg = TlsPg.get();
  }

  @AfterEach
  void restore() {
    Env.override(null);
  }

  @Test
  void aWrongPasswordIsSaidUnderPreferAgainstATlsOnlyServer(Vertx vertx, VertxTestContext ctx) {
    String wrong = "wrong p@ss:w/o?r#d%20'\"\\ ü";
    DatabaseConfig db = pg.database("localhost", "postgres", "sluice_tls", wrong, null, PREFER);
    Databases.connect(vertx, db, "sluice-login-test").onComplete(ctx.failing(e -> ctx.verify(() -> {
      String m = String.valueOf(e.getMessage());
      assertTrue(m.contains("password authentication failed for user \"sluice_tls\""), m);
      assertTrue(m.contains("tried without TLS"), "and what the plain retry met: " + m);
      assertFalse(m.contains(wrong) || m.contains("r#d"), "never the password: " + m);
      ctx.completeNow();
    })));
  }

  @Test
  void aTlsFileThatCannotServeIsNamed(Vertx vertx, VertxTestContext ctx) {
    var both = ctx.checkpoint(2);
    Tls missing = new Tls(SslMode.VERIFY_FULL, "/nonexistent/sluice/ca.pem", null, null);
    Tls aKey = new Tls(SslMode.VERIFY_FULL, pg.certs.serverKey().toString(), null, null);
    Databases.connect(vertx, pg.database("localhost", "postgres", "sluice_tls", TlsPg.TLS_PASSWORD, null, missing), "sluice-login-test")
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(String.valueOf(e.getMessage()).equals("sslrootcert /nonexistent/sluice/ca.pem: no such file"), e.getMessage());
          both.flag();
        })));
    Databases.connect(vertx, pg.database("localhost", "postgres", "sluice_tls", TlsPg.TLS_PASSWORD, null, aKey), "sluice-login-test")
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(String.valueOf(e.getMessage()).startsWith("sslrootcert " + pg.certs.serverKey() + ": not a PEM certificate"),
              e.getMessage());
          both.flag();
        })));
  }

  @Test
  void aPoolsPlainRetryIsExplained(Vertx vertx, VertxTestContext ctx) {
    // A pool (the CLI's commands, the running agent) reports only the retry without TLS: described with its meaning.
    DatabaseConfig db = pg.database("localhost", "postgres", "sluice_tls", "not-the-password", null, PREFER);
    io.vertx.sqlclient.Pool pool = Databases.pool(vertx, db, "sluice-login-test", 1);
    pool.query("SELECT 1").execute().eventually(pool::close).onComplete(ctx.failing(e -> ctx.verify(() -> {
      String m = dev.sluice.resilience.ErrorClassifier.describe(e);
      assertTrue(m.contains("no encryption") && m.contains("the server accepts this role over TLS only")
          && m.contains("such as a wrong or missing password"), m);
      ctx.completeNow();
    })));
  }

  @Test
  void noPasswordAtAllSaysWhereOneGoes(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) {
    Env.override(Map.of("PGPASSFILE", dir.resolve("none").toString()));
    var both = ctx.checkpoint(2);
    for (Tls tls : new Tls[] {PREFER, new Tls(SslMode.REQUIRE, null, null, null)}) {
      DatabaseConfig db = pg.database("localhost", "postgres", "sluice_tls", null, null, tls);
      Databases.connect(vertx, db, "sluice-login-test").onComplete(ctx.failing(e -> ctx.verify(() -> {
        String m = String.valueOf(e.getMessage());
        assertTrue(m.contains("the server asks for user sluice_tls's password and none was given"), tls.mode() + ": " + m);
        assertTrue(m.contains("passwordFile") && m.contains(".pgpass"), m);
        assertFalse(m.contains("must not be empty"), m);
        both.flag();
      })));
    }
  }
}
