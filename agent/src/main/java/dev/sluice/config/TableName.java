package dev.sluice.config;

import java.util.ArrayList;
import java.util.List;

/** A schema-qualified table name; {@code orders} means {@code public.orders}. Quoted parts keep case. */
public record TableName(String schema, String name) {

  /** Parses {@code schema.table}, {@code table}, or quoted forms like {@code "My Schema"."Orders"}. */
  public static TableName parse(String text) {
    List<String> parts = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
            cur.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          cur.append(c);
        }
      } else if (c == '"') {
        quoted = true;
        wasQuoted = true;
      } else if (c == '.') {
        parts.add(finish(cur, wasQuoted));
        cur.setLength(0);
        wasQuoted = false;
      } else {
        if (!(Character.isLetterOrDigit(c) || c == '_' || c == '$')) {
          throw new IllegalArgumentException("\"" + text + "\" is not a table name (use schema.table; quote unusual names)");
        }
        cur.append(c);
      }
    }
    if (quoted) throw new IllegalArgumentException("unterminated quote in \"" + text + "\"");
    parts.add(finish(cur, wasQuoted));
    if (parts.size() > 2 || parts.stream().anyMatch(String::isEmpty)) {
      throw new IllegalArgumentException("\"" + text + "\" is not a table name (use schema.table)");
    }
    return parts.size() == 1 ? new TableName("public", parts.get(0)) : new TableName(parts.get(0), parts.get(1));
  }

  private static String finish(StringBuilder cur, boolean quoted) {
    return quoted ? cur.toString() : cur.toString().toLowerCase();
  }

  /** The name as SQL, each part quoted. */
  public String sql() {
    return Sql.ident(schema) + "." + Sql.ident(name);
  }

  @Override
  public String toString() {
    return schema + "." + name;
  }
}
