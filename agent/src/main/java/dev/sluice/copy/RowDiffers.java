package dev.sluice.copy;

import dev.sluice.config.Sql;
import dev.sluice.inspect.JobShape;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The condition under which a write replaces a target row that is already there: some column's value
 * differs from the one being written. An equal row is left alone (no dead tuple, no WAL), so a re-copy
 * or a key applied twice writes nothing.
 *
 * <p>"Differs" means what verification means: the value's text differs. Two values a type calls equal
 * can print differently ({@code numeric} 1.0 and 1.00, {@code float8} 0 and -0, {@code json} with other
 * spacing) and some types have no equality at all ({@code json}, {@code point}, {@code xml}), so most
 * columns are compared as text, byte for byte ({@code COLLATE "C"}). Types whose equality holds exactly
 * when their text is the same are compared as themselves, which skips printing both values: integers,
 * {@code boolean}, {@code uuid}, {@code date}, timestamps, {@code bytea}, and {@code text} and
 * {@code varchar} byte for byte. Comparing the whole row's record text instead, as before, printed
 * every column of both rows and cost about a fifth of the applier's MERGE (benchmarks/PROFILE.md).
 */
public final class RowDiffers {
  /** Types whose equality is exactly equality of their text (as {@code format_type} prints them). */
  private static final Pattern SAME_AS_TEXT = Pattern.compile(
      "smallint|integer|bigint|boolean|uuid|date|bytea|timestamp(\\(\\d+\\))? with(out)? time zone");
  private static final Pattern TEXT = Pattern.compile("text|character varying(\\(\\d+\\))?");

  private RowDiffers() {}

  /**
   * SQL true when the row {@code left} (an alias, e.g. {@code t}) differs from {@code right} (e.g.
   * {@code EXCLUDED}) in one of {@code columns}; never null (NULLs compare as values).
   */
  public static String sql(List<JobShape.Column> columns, String left, String right) {
    if (columns.isEmpty()) return "false";
    return columns.stream().map(c -> column(c, left, right)).collect(Collectors.joining(" OR ", "(", ")"));
  }

  static String column(JobShape.Column c, String left, String right) {
    String name = Sql.ident(c.name());
    String l = left + "." + name;
    String r = right + "." + name;
    if (SAME_AS_TEXT.matcher(c.type()).matches()) return l + " IS DISTINCT FROM " + r;
    if (TEXT.matcher(c.type()).matches()) return l + " COLLATE \"C\" IS DISTINCT FROM " + r + " COLLATE \"C\"";
    return l + "::text COLLATE \"C\" IS DISTINCT FROM " + r + "::text COLLATE \"C\"";
  }
}
