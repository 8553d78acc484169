package dev.sluice.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Row-by-row comparison of a source query and a target query, both ordered by key. */
public final class Tables {
  private Tables() {}

  /**
   * Asserts both queries return the same rows in the same order, comparing each row's text form.
   * Queries must select {@code row(...)::text} (or any single text column) and order by the key.
   * Returns the number of rows compared.
   */
  public static long assertSameRows(TestPg pg, String sourceDb, String sourceSql, String targetDb, String targetSql) {
    try (Connection a = pg.connect(sourceDb); Connection b = pg.connect(targetDb)) {
      return assertSameRows(a, sourceSql, b, targetSql);
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** The same on two open connections (e.g. to two servers); they are left in a transaction. */
  public static long assertSameRows(Connection a, String sourceSql, Connection b, String targetSql) {
    try {
      a.setAutoCommit(false);
      b.setAutoCommit(false);
      try (Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
        sa.setFetchSize(5000);
        sb.setFetchSize(5000);
        sa.execute("SET TimeZone = 'UTC'");
        sb.execute("SET TimeZone = 'UTC'");
        try (ResultSet ra = sa.executeQuery(sourceSql); ResultSet rb = sb.executeQuery(targetSql)) {
          long n = 0;
          while (true) {
            boolean ha = ra.next();
            boolean hb = rb.next();
            if (!ha && !hb) return n;
            if (ha != hb) {
              fail("row " + n + ": " + (ha ? "source has " + ra.getString(1) + " but target has no more rows"
                  : "target has " + rb.getString(1) + " but source has no more rows"));
            }
            assertEquals(ra.getString(1), rb.getString(1), "row " + n + " differs");
            n++;
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}
