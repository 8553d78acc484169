package dev.sluice.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.DatabaseConfig.SslMode;
import dev.sluice.config.DatabaseConfig.Tls;
import dev.sluice.config.Env;
import dev.sluice.config.SessionLimits;
import dev.sluice.testing.Async;
import dev.sluice.testing.TlsPg;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where passwords come from, against a server that checks them (role {@code sluice_pw}, scram): a
 * {@code passwordFile} read again at every new connection (a rotated secret is used after the next
 * reconnect, by the same pool, with no restart), and libpq's password file.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class PasswordSourcesTest {
  private static final Tls PLAIN = new Tls(SslMode.DISABLE, null, null, null);
  private static TlsPg pg;

  @BeforeAll
  static void setUp() {
    pg = TlsPg.get();
  }

  @AfterEach
  void restore() {
    Env.override(null);
    pg.exec("postgres", "ALTER ROLE sluice_pw PASSWORD 'first-password'");
  }

  private static Future<String> whoAmI(Pool pool) {
    return pool.query("SELECT current_user").execute().map(rows -> rows.iterator().next().getString(0));
  }

  /** Ends the role's sessions, so the pool must open new ones. */
  private static void dropSessions() {
    pg.exec("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'sluice_pw'");
  }

  @Test
  void aRotatedPasswordFileIsReadAtTheNextReconnect(Vertx vertx, VertxTestContext ctx) throws Exception {
    Path dir = Files.createTempDirectory("sluice-secret-");
    Path file = dir.resolve("password");
    Files.writeString(file, "first-password\n"); // as `echo` writes it
    DatabaseConfig db = pg.database("127.0.0.1", "postgres", "sluice_pw", null, file, PLAIN);
    Pool pool = Databases.pool(vertx, db, "sluice-rotation", 1);
    whoAmI(pool)
        .compose(me -> {
          ctx.verify(() -> assertEquals("sluice_pw", me));
          // The password changes on the server, not yet in the file: the next new connection is refused...
          return Async.blocking(vertx, () -> {
            pg.exec("postgres", "ALTER ROLE sluice_pw PASSWORD 'second-password'");
            dropSessions();
          });
        })
        .compose(v -> Async.until(vertx, Duration.ofSeconds(20), "a refused reconnect", () -> whoAmI(pool).map(me -> false)
            .otherwise(e -> String.valueOf(e.getMessage()).contains("password authentication failed"))))
        // ...and once the secret is rotated in the file, the same pool reconnects with it.
        .compose(v -> Async.blocking(vertx, () -> Files.writeString(file, "second-password")))
        .compose(v -> Async.until(vertx, Duration.ofSeconds(20), "a reconnect with the rotated password",
            () -> whoAmI(pool).map("sluice_pw"::equals).otherwise(false)))
        // pgjdbc reads the same file.
        .compose(v -> Async.blocking(vertx, () -> {
          try (Connection c = ConnectionSettings.of(db, "sluice-rotation", SessionLimits.NONE).openJdbc()) {
            return c.isValid(5);
          }
        }))
        .eventually(pool::close)
        .onComplete(ctx.succeeding(valid -> ctx.verify(() -> {
          assertTrue(valid);
          ctx.completeNow();
        })));
  }

  @Test
  void thePgpassFileIsUsedWhenNoPasswordIsConfigured(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) throws Exception {
    Path pgpass = dir.resolve("pgpass");
    Files.writeString(pgpass, String.join("\n",
        "# comment",
        "otherhost:*:*:sluice_pw:not-this-one",
        "127.0.0.1:" + pg.port() + ":*:sluice_pw:first-password",
        "*:*:*:*:nor-this-one", ""));
    Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-------"));
    Env.override(Map.of("PGPASSFILE", pgpass.toString()));
    DatabaseConfig db = pg.database("127.0.0.1", "postgres", "sluice_pw", null, null, PLAIN);
    assertEquals("first-password", Passwords.resolve(db, "sluice_pw"));
    Pool pool = Databases.pool(vertx, db, "sluice-pgpass", 1);
    whoAmI(pool)
        .eventually(pool::close)
        .compose(me -> {
          ctx.verify(() -> assertEquals("sluice_pw", me));
          // A password file others can read is ignored, as libpq ignores it.
          return Async.blocking(vertx, () -> {
            Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-r--r--"));
            return Passwords.resolve(db, "sluice_pw");
          });
        })
        .compose(ignored -> {
          ctx.verify(() -> assertNull(ignored));
          return Databases.connect(vertx, db, "sluice-pgpass");
        })
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(e.getMessage().contains("password"), e.getMessage());
          ctx.completeNow();
        })));
  }

  @Test
  void pgpassLinesFollowLibpq(@TempDir Path dir) throws Exception {
    Path f = Files.createFile(dir.resolve("pgpass"));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(f, "db\\:1:5432:app:me:pa\\:ss\\\\word:with:colons\n*:*:*:*:fallback\n");
    assertEquals("pa:ss\\word:with:colons", Passwords.pgpass(f, "db:1", 5432, "app", "me"));
    assertEquals("fallback", Passwords.pgpass(f, "db", 5432, "app", "me"));
  }

  @Test
  void anEmptyPasswordFileIsSaidSo(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    DatabaseConfig db = pg.database("127.0.0.1", "postgres", "sluice_pw", null, empty, PLAIN);
    Databases.connect(vertx, db, "sluice-empty").onComplete(ctx.failing(e -> ctx.verify(() -> {
      assertTrue(e.getMessage().contains("passwordFile " + empty + " is empty"), e.getMessage());
      ctx.completeNow();
    })));
  }

  @Test
  void anUnreadablePasswordFileSaysWhichFileWithoutItsContent(Vertx vertx, VertxTestContext ctx) {
    DatabaseConfig db = pg.database("127.0.0.1", "postgres", "sluice_pw", null, Path.of("/nonexistent/sluice/password"), PLAIN);
    Databases.connect(vertx, db, "sluice-pgpass").onComplete(ctx.failing(e -> ctx.verify(() -> {
      assertTrue(e.getMessage().contains("cannot read passwordFile /nonexistent/sluice/password"), e.getMessage());
      ctx.completeNow();
    })));
  }
}
