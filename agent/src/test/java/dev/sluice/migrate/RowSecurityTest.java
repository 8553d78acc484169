package dev.sluice.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.Main;
import dev.sluice.config.ConfigLoader;
import dev.sluice.db.Await;
import dev.sluice.db.Databases;
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
 * Row-level security on the source hides rows from a role it applies to, and a scan that sees fewer
 * rows counts and hashes only those: the copy verified, and a job completed with a third of the table
 * (found black-box: 1,000 of 3,000 rows, `completed`). Validation now refuses such a table on either
 * side with the fix, and every Sluice session runs with {@code row_security = off}, so a policy that
 * would filter one of its queries (one created after validation, say) makes the query fail instead.
 */
class RowSecurityTest {
  private final TestPg pg = TestPg.get();

  @TempDir
  Path dir;

  @Test
  void aTableWhosePoliciesHideRowsIsRefusedAndNeverReadFiltered() throws Exception {
    String src = pg.createDatabase("rls_src");
    String tgt = pg.createDatabase("rls_tgt");
    String role = "rls_" + src;
    pg.exec(src, "CREATE TABLE secret (id bigint PRIMARY KEY, tenant int NOT NULL)",
        "INSERT INTO secret SELECT g, g % 3 FROM generate_series(1, 300) g",
        "ALTER TABLE secret ENABLE ROW LEVEL SECURITY", "CREATE POLICY one_tenant ON secret USING (tenant = 1)",
        "CREATE ROLE " + role + " LOGIN", "GRANT SELECT, TRIGGER ON secret TO " + role, "GRANT CREATE ON DATABASE " + src + " TO " + role);
    String url = pg.url(src).replace("postgres@", role + "@");
    Path cfg = Files.writeString(dir.resolve("rls.json"), """
        {"source": {"url": "%s"}, "target": {"url": "%s"}, "http": {"enabled": false},
         "jobs": [{"name": "secret", "source": {"table": "public.secret", "key": ["id"]},
                   "target": {"table": "public.secret", "create": true}, "capture": {"enabled": false}}]}"""
        .formatted(url, pg.url(tgt)));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "validate", "--config", cfg.toString());
    assertEquals(Main.BAD_CONFIG, exit, out.toString());
    assertTrue(err.toString().contains("jobs[0].source.table: row-level security on public.secret applies to role " + role)
        && err.toString().contains("BYPASSRLS"), err.toString());

    // The agent's sessions: a query a policy would filter fails rather than read a part of the table.
    Vertx vertx = Vertx.vertx();
    Pool pool = Databases.pool(vertx, ConfigLoader.parse(Files.readString(cfg)).source(), "sluice-test", 1);
    try {
      Throwable failure = Await.result(pool.query("SELECT count(*) FROM secret").execute().map(r -> (Throwable) null)
          .otherwise(e -> e));
      assertTrue(failure != null && failure.getMessage().contains("row-level security"),
          "a filtered read must fail, not count the visible rows: " + failure);
    } finally {
      Await.result(pool.close());
      Await.result(vertx.close());
    }
  }
}
