package dev.sluice.copy;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * How one column travels between source and target. Integers go as themselves (binary on the wire,
 * a bigint[] parameter): no text formatting on the source, no parsing on the target, no string in
 * the agent. Every other type travels as its text form and is cast by the target, which covers
 * every type with text I/O. Which kind is decided by the column's target type alone.
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

  /** How the streaming read selects column {@code ref}: as itself, or as its text. */
  public String select(String ref) {
    return this == TEXT ? ref + "::text" : ref;
  }

  /** A column array of {@code n} values of this kind. */
  public Object[] newArray(int n) {
    return switch (this) {
      case LONG -> new Long[n];
      case INT -> new Integer[n];
      case SHORT -> new Short[n];
      case TEXT -> new String[n];
    };
  }

  /** Reads column {@code c} of a row as this kind. */
  public Object read(Row r, int c) {
    return switch (this) {
      case LONG -> r.getLong(c);
      case INT -> r.getInteger(c);
      case SHORT -> r.getShort(c);
      case TEXT -> r.getString(c);
    };
  }

  /** Binds a column array made by {@link #newArray(int)}. */
  public void bind(Tuple t, Object[] column) {
    switch (this) {
      case LONG -> t.addArrayOfLong((Long[]) column);
      case INT -> t.addArrayOfInteger((Integer[]) column);
      case SHORT -> t.addArrayOfShort((Short[]) column);
      case TEXT -> t.addArrayOfString((String[]) column);
    }
  }
}
