package dev.sluice.config;

/**
 * Checks that a piece of SQL from the config (a row filter, a column expression) is one balanced
 * expression, so that once Sluice wraps it in parentheses ({@code WHERE (<where>) AND key >= $1})
 * nothing in it can close the wrapper and reach the SQL around it: {@code true) or (true} would
 * otherwise turn every segment's key range into the whole table.
 *
 * <p>It lexes the text as PostgreSQL does: {@code '..'} strings ({@code ''} inside), {@code E'..'}
 * strings (backslash escapes), {@code ".."} identifiers, {@code $tag$..$tag$} dollar quotes,
 * {@code --} and nested {@code /* *}{@code /} comments; {@code $} inside an identifier is part of it.
 * Outside those, a {@code )} may never close more than was opened, and everything opened must be
 * closed. Plain strings are lexed both ways ({@code standard_conforming_strings} on and off) and must
 * pass both, so a server setting cannot make a quote end somewhere else than the check saw. Also
 * refused: a {@code ;}, a parameter reference ({@code $1}: Sluice binds its own parameters), a NUL,
 * and text that ends inside a string, identifier or comment (a {@code --} comment without a newline
 * after it would swallow the closing parenthesis). PostgreSQL itself then parses the wrapped text
 * at validation; this check only makes sure the wrapper holds.
 */
public final class SqlFragment {
  private SqlFragment() {}

  /** Why {@code sql} is not one balanced expression, or null when it is. */
  public static String problem(String sql) {
    if (sql.indexOf('\0') >= 0) return "contains a NUL character";
    String standard = lex(sql, false);
    if (standard != null) return standard;
    String escaped = lex(sql, true);
    return escaped == null ? null : escaped + " once backslashes in strings are read as escapes (standard_conforming_strings off);"
        + " write such a string as E'..' with \\\\ for a backslash";
  }

  /** Lexes once; {@code backslashInPlain}: plain strings take backslash escapes (standard_conforming_strings off). */
  private static String lex(String s, boolean backslashInPlain) {
    int depth = 0;
    int i = 0;
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
        int end = lineEnd(s, i);
        if (end < 0) return "ends inside a -- comment (it would hide what follows it; end the comment with a new line)";
        i = end;
      } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
        i = blockCommentEnd(s, i);
        if (i < 0) return "has an unterminated /* comment";
      } else if (c == '\'') {
        i = stringEnd(s, i + 1, backslashInPlain);
        if (i < 0) return "has an unterminated string literal";
      } else if (c == '"') {
        i = s.indexOf('"', i + 1);
        while (i >= 0 && i + 1 < n && s.charAt(i + 1) == '"') i = s.indexOf('"', i + 2);
        if (i < 0) return "has an unterminated quoted identifier";
        i++;
      } else if (c == '$') {
        int j = i + 1;
        if (j < n && Character.isDigit(s.charAt(j))) return "refers to a query parameter ($" + s.charAt(j) + "...); Sluice binds its own";
        while (j < n && identifierPart(s.charAt(j)) && s.charAt(j) != '$') j++;
        if (j < n && s.charAt(j) == '$' && (j == i + 1 || identifierStart(s.charAt(i + 1)))) {
          String tag = s.substring(i, j + 1);
          int close = s.indexOf(tag, j + 1);
          if (close < 0) return "has an unterminated dollar-quoted string (" + tag + ")";
          i = close + tag.length();
        } else {
          i++;
        }
      } else if (identifierStart(c)) {
        int j = i + 1;
        while (j < n && identifierPart(s.charAt(j))) j++;
        if (j == i + 1 && (c == 'e' || c == 'E') && j < n && s.charAt(j) == '\'') {
          i = stringEnd(s, j + 1, true);
          if (i < 0) return "has an unterminated string literal";
        } else {
          i = j;
        }
      } else if (Character.isDigit(c) || c == '.') {
        int j = i + 1;
        while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == '.')) j++;
        i = j;
      } else if (c == '(') {
        depth++;
        i++;
      } else if (c == ')') {
        if (--depth < 0) {
          return "closes a parenthesis it did not open (the \")\" at character " + (i + 1)
              + "); it must be one expression whose parentheses balance";
        }
        i++;
      } else if (c == ';') {
        return "contains a \";\" (at character " + (i + 1) + "); it must be one expression, not statements";
      } else {
        i++;
      }
    }
    return depth == 0 ? null : "leaves " + depth + " parenthes" + (depth == 1 ? "is" : "es") + " open; it must be one expression whose parentheses balance";
  }

  /** The index after the newline that ends the -- comment at {@code i}, or -1 when the text ends first. */
  private static int lineEnd(String s, int i) {
    for (int j = i + 2; j < s.length(); j++) {
      if (s.charAt(j) == '\n' || s.charAt(j) == '\r') return j + 1;
    }
    return -1;
  }

  /** The index after the block comment opened at {@code i} (they nest), or -1. */
  private static int blockCommentEnd(String s, int i) {
    int nest = 0;
    int j = i;
    while (j + 1 < s.length()) {
      if (s.charAt(j) == '/' && s.charAt(j + 1) == '*') {
        nest++;
        j += 2;
      } else if (s.charAt(j) == '*' && s.charAt(j + 1) == '/') {
        j += 2;
        if (--nest == 0) return j;
      } else {
        j++;
      }
    }
    return -1;
  }

  /** The index after the quote that closes a string whose body starts at {@code i}, or -1. */
  private static int stringEnd(String s, int i, boolean backslash) {
    int j = i;
    while (j < s.length()) {
      char c = s.charAt(j);
      if (backslash && c == '\\') {
        j += 2;
      } else if (c == '\'') {
        if (j + 1 < s.length() && s.charAt(j + 1) == '\'') j += 2;
        else return j + 1;
      } else {
        j++;
      }
    }
    return -1;
  }

  private static boolean identifierStart(char c) {
    return Character.isLetter(c) || c == '_' || c >= 0x80;
  }

  private static boolean identifierPart(char c) {
    return identifierStart(c) || Character.isDigit(c) || c == '$';
  }
}
