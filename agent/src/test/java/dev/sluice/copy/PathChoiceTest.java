package dev.sluice.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.JobConfig.CopyMode;
import org.junit.jupiter.api.Test;

/** Which path a job takes, and the sentence that says why. */
class PathChoiceTest {
  private static DatabaseConfig db(String host, String name) {
    return new DatabaseConfig(host, 5432, name, "u", null, null, DatabaseConfig.Tls.DEFAULT, 8);
  }

  private static final DatabaseConfig SRC = db("127.0.0.1", "src");
  private static final DatabaseConfig TGT = db("127.0.0.1", "tgt");

  @Test
  void crossDatabaseJobsTakeCopyOneDatabaseServerSide() {
    assertEquals(new PathChoice(PathChoice.Kind.COPY, "source and target are different databases (mode \"auto\")"),
        PathChoice.of(CopyMode.AUTO, false, SRC, TGT));
    assertEquals(PathChoice.Kind.SERVER_SIDE, PathChoice.of(CopyMode.AUTO, true, SRC, SRC).kind());
    assertEquals(PathChoice.Kind.SERVER_SIDE, PathChoice.of(CopyMode.SERVER, true, SRC, SRC).kind());
    assertEquals(new PathChoice(PathChoice.Kind.COPY, "mode is \"client\""), PathChoice.of(CopyMode.CLIENT, true, SRC, SRC));
    assertEquals(new PathChoice(PathChoice.Kind.ROWS, "mode is \"rows\""), PathChoice.of(CopyMode.ROWS, false, SRC, TGT));
  }

  @Test
  void tlsKeepsTheCopyPath() {
    DatabaseConfig verified = new DatabaseConfig("db.example", 5432, "src", "u", null, null,
        new DatabaseConfig.Tls(DatabaseConfig.SslMode.VERIFY_FULL, "/etc/ca.pem", null, null), 8);
    assertEquals(PathChoice.Kind.COPY, PathChoice.of(CopyMode.AUTO, false, verified, TGT).kind(), "TLS is shared with the JDBC sessions");
  }
}
