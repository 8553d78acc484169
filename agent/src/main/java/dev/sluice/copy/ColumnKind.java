package dev.sluice.copy;

/**
 * How one column travels between source and target, inside its batch's packed array text. Integers
 * go as themselves (the target parses the array straight into a bigint[]); every other type as its
 * text form (a text[] on the target, each value then cast to the column's type), which covers every
 * type with text I/O, arrays included. Which kind is decided by the column's target type alone.
 */
public enum ColumnKind {
  LONG("bigint"),
  INT("integer"),
  SHORT("smallint"),
  TEXT("text");

  private final String sqlType;

  ColumnKind(String sqlType) {
    this.sqlType = sqlType;
  }

  /** The kind for a target type as {@code format_type} prints it; anything unknown travels as text. */
  public static ColumnKind of(String type) {
    return switch (type) {
      case "bigint" -> LONG;
      case "integer" -> INT;
      case "smallint" -> SHORT;
      default -> TEXT;
    };
  }

  /** The SQL array type of the upsert parameter that carries this column. */
  public String arrayType() {
    return sqlType + "[]";
  }

  /** How the page read selects column {@code ref} into the packed array: as itself, or as its text. */
  public String select(String ref) {
    return this == TEXT ? ref + "::text" : ref;
  }
}
