package dev.sluice.config;

/** Quoting for identifiers and literals that Sluice splices into SQL it generates. */
public final class Sql {
  private Sql() {}

  public static String ident(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  public static String literal(String s) {
    return s == null ? "NULL" : "'" + s.replace("'", "''") + "'";
  }
}
