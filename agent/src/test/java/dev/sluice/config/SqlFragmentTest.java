package dev.sluice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testing.TestPg;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A row filter or column expression must stay inside the parentheses Sluice wraps it in. Each hostile
 * input below is first shown to really escape the wrapper in PostgreSQL ({@code WHERE (W) AND false}
 * returns a row), under the {@code standard_conforming_strings} setting it aims at, and then shown to be
 * refused; each legitimate one is accepted and parses in PostgreSQL inside the wrapper under both settings.
 */
class SqlFragmentTest {
  private static final TestPg pg = TestPg.get();

  /** A payload, the standard_conforming_strings setting under which it escapes, and what the refusal says. */
  record Hostile(String sql, boolean standardStrings, String says) {}

  private static final List<Hostile> HOSTILE = List.of(
      new Hostile("true) or (true", true, "closes a parenthesis it did not open"),
      // Parentheses in strings and a comment balance a count that ignores quoting.
      new Hostile("'(' = '(') or (true --))\n", true, "closes a parenthesis it did not open"),
      new Hostile("$q$(($q$ <> '') or (true /* )) */", true, "closes a parenthesis it did not open"),
      new Hostile("$$(($$ <> '') or (true /* )) */", true, "closes a parenthesis it did not open"),
      new Hostile("\"a(\" = 1) or (true --)\n", true, "closes a parenthesis it did not open"),
      // Balanced for a lexer that does not know E'' strings take backslash escapes.
      new Hostile("x::text = E'\\' <> ') or (true) or (true --\\'\n", true, "closes a parenthesis it did not open"),
      // Balanced while strings are standard, escapes when the server reads backslashes in plain strings.
      new Hostile("x::text = '\\' = ') or (true) or (true -- \\'\n", false, "standard_conforming_strings off"),
      // Comments nest: a lexer that ends one at the first */ sees "( ... )" where PostgreSQL sees ")".
      new Hostile("true /* /* */ ( */) or (true /* /* */ ) */", true, "closes a parenthesis it did not open"));

  /** Conditions on a table with columns x (int) and "a(" (int) that must be accepted. */
  private static final List<String> BENIGN = List.of(
      "x = 1",
      "x IN (1, 2, (3))",
      "'a)' <> 'b('",
      "'it''s (' <> ''",
      "E'\\'(' <> ''",
      "$$)$$ <> $tag$($tag$",
      "x = 1 /* ) /* nested ( */ ) */",
      "x = 1 -- a comment )\n",
      "\"a(\" = 1 OR \"x\" = 2",
      "x > (SELECT min(y) FROM (VALUES (0)) v(y))",
      "x::text ~ '^[0-9]+$'",
      "x = ANY ('{1,2}'::int[])",
      "coalesce(x, 0) >= 0 AND x <> -1 AND x*-1 < 5",
      "(x = 1) OR (x = 2)");

  @Test
  void hostileInputsEscapeInPostgresqlAndAreRefused() throws Exception {
    String db = pg.createDatabase("frag");
    try (Connection c = pg.connect(db)) {
      for (Hostile h : HOSTILE) {
        assertEquals(1, count(c, h.sql(), h.standardStrings()), "escapes the wrapper in PostgreSQL: " + h.sql());
        String problem = SqlFragment.problem(h.sql());
        assertNotNull(problem, "refused: " + h.sql());
        assertTrue(problem.contains(h.says()), h.sql() + " -> " + problem);
      }
      for (String ok : BENIGN) {
        assertNull(SqlFragment.problem(ok), ok);
        assertEquals(0, count(c, ok, true), "parses inside the wrapper: " + ok);
        if (!ok.contains("\\")) assertEquals(0, count(c, ok, false), "parses with standard_conforming_strings off: " + ok);
      }
    }
  }

  @Test
  void refusesWhatIsNotOneExpression() {
    assertTrue(SqlFragment.problem("true; DROP TABLE orders").contains("contains a \";\""));
    assertTrue(SqlFragment.problem("id > $1").contains("query parameter"));
    assertTrue(SqlFragment.problem("(true").contains("leaves 1 parenthesis open"));
    assertTrue(SqlFragment.problem("((true").contains("leaves 2 parentheses open"));
    assertTrue(SqlFragment.problem("x = 'open").contains("unterminated string"));
    assertTrue(SqlFragment.problem("\"open = 1").contains("unterminated quoted identifier"));
    assertTrue(SqlFragment.problem("x = $a$ open").contains("unterminated dollar-quoted string ($a$)"));
    assertTrue(SqlFragment.problem("x = 1 /* open").contains("unterminated /* comment"));
    assertTrue(SqlFragment.problem("x = 1\0").contains("NUL"));
    // A -- comment to the end would swallow the wrapper's own ')' and what Sluice appends after it.
    assertTrue(SqlFragment.problem("x = 1 -- ends here").contains("ends inside a -- comment"));
    // A '$' inside an identifier is part of it, not a dollar quote; a ';' inside a string is text.
    assertNull(SqlFragment.problem("a$b$ = 1 AND c$ = ';'"));
    assertNull(SqlFragment.problem("note = '(' || ')' -- ;\n"));
  }

  /** {@code SELECT count(*) .. WHERE (W) AND false} in a session with the given string setting. */
  private static long count(Connection c, String where, boolean standardStrings) throws Exception {
    try (Statement s = c.createStatement()) {
      s.setEscapeProcessing(false);
      s.execute("SET standard_conforming_strings = " + (standardStrings ? "on" : "off"));
      try (ResultSet r = s.executeQuery("SELECT count(*) FROM (VALUES (1, 1)) t(x, \"a(\") WHERE (" + where + ") AND false")) {
        r.next();
        return r.getLong(1);
      }
    }
  }
}
