package dev.sluice.cache;

import io.vertx.core.json.JsonArray;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Keys as the read API takes them and as the cache and cohorts know them.
 *
 * <ul>
 *   <li>In a URL path: the key's parts (one per key column) separated by {@code ,}, each part
 *       percent-encoded (UTF-8) so that {@code ,}, {@code /}, {@code %} and spaces inside a part
 *       survive: {@code /rows/42}, {@code /rows/eu-west,1007}, {@code /rows/a%2Cb,7}.
 *   <li>Canonical text: each part as PostgreSQL prints it after a cast to the key column's type
 *       ({@code key::text}); a composite key is the JSON array of its parts' texts,
 *       {@code ["eu-west","1007"]}. Cache entries and cohorts use it, so {@code 007} and {@code 7}
 *       are the same bigint key.
 * </ul>
 *
 * Parts of common types (integers, text, uuid) are canonicalised here; others (numeric, dates,
 * timestamps...) by PostgreSQL, which owns their text form.
 */
public final class KeyCodec {
  private static final Pattern CANONICAL_UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern TYPMOD = Pattern.compile("\\(\\s*\\d+(\\s*,\\s*\\d+)?\\s*\\)");

  private final List<String> types;
  private final List<String> lookupTypes;

  /** {@code types}: the key columns' types as {@code format_type} prints them. */
  public KeyCodec(List<String> types) {
    this.types = List.copyOf(types);
    this.lookupTypes = types.stream().map(KeyCodec::lookupType).toList();
  }

  public int width() {
    return types.size();
  }

  /** The key column types without modifiers, for casting a requested key (see {@link #lookupType}). */
  public List<String> lookupTypes() {
    return lookupTypes;
  }

  /**
   * A type for casting a requested key: without its modifier, because a cast to {@code varchar(10)}
   * or {@code numeric(10,2)} would truncate or round the request into some other row's key.
   * {@code character(n)} becomes {@code bpchar} (bare {@code character} means length 1).
   */
  static String lookupType(String type) {
    String t = type.trim();
    String lower = t.toLowerCase(Locale.ROOT);
    if (lower.startsWith("character(") || lower.startsWith("char(")) return "bpchar";
    return TYPMOD.matcher(t).replaceAll("").replaceAll("\\s+", " ").trim();
  }

  /** Parses a path's key: parts separated by commas, each percent-encoded. */
  public List<String> fromPath(String raw) {
    List<String> parts = new ArrayList<>();
    int start = 0;
    while (true) {
      int comma = raw.indexOf(',', start);
      parts.add(percentDecode(comma < 0 ? raw.substring(start) : raw.substring(start, comma)));
      if (comma < 0) break;
      start = comma + 1;
    }
    checkWidth(parts.size());
    return parts;
  }

  /** A key from a JSON request body: a string or number for one column, an array of them for several. */
  public List<String> fromJson(Object value) {
    List<String> parts = new ArrayList<>();
    if (value instanceof JsonArray arr) {
      for (Object o : arr) parts.add(scalar(o));
    } else {
      parts.add(scalar(value));
    }
    checkWidth(parts.size());
    return parts;
  }

  private static String scalar(Object o) {
    if (o instanceof String s) return s;
    if (o instanceof Number || o instanceof Boolean) return o.toString();
    throw new IllegalArgumentException("a key part must be a string or a number (got " + (o == null ? "null" : o.getClass().getSimpleName()) + ")");
  }

  private void checkWidth(int n) {
    if (n != types.size()) {
      throw new IllegalArgumentException("the key has " + types.size() + " part(s), one per key column, but " + n + " were given"
          + (types.size() > 1 ? " (separate parts with ',' and percent-encode ',' inside a part as %2C)" : ""));
    }
  }

  /** The canonical parts when every part can be canonicalised here; null when PostgreSQL must do it. */
  public List<String> canonicalHere(List<String> parts) {
    List<String> out = new ArrayList<>(parts.size());
    for (int i = 0; i < parts.size(); i++) {
      String c = canonicalPart(lookupTypes.get(i), parts.get(i));
      if (c == null) return null;
      out.add(c);
    }
    return out;
  }

  private static String canonicalPart(String type, String v) {
    switch (type) {
      case "bigint", "integer", "smallint" -> {
        long x;
        try {
          x = Long.parseLong(v);
        } catch (NumberFormatException e) {
          return null; // PostgreSQL decides: it may accept spaces, or explain why not
        }
        long max = type.equals("bigint") ? Long.MAX_VALUE : type.equals("integer") ? Integer.MAX_VALUE : Short.MAX_VALUE;
        long min = type.equals("bigint") ? Long.MIN_VALUE : type.equals("integer") ? Integer.MIN_VALUE : Short.MIN_VALUE;
        return x < min || x > max ? null : Long.toString(x);
      }
      case "text" -> {
        return v.indexOf('\0') >= 0 ? null : v;
      }
      case "uuid" -> {
        return CANONICAL_UUID.matcher(v).matches() ? v : null;
      }
      default -> {
        return null;
      }
    }
  }

  /** The canonical key text from canonical parts. */
  public static String text(List<String> canonicalParts) {
    return canonicalParts.size() == 1 ? canonicalParts.get(0) : new JsonArray(new ArrayList<>(canonicalParts)).encode();
  }

  /** The path form of a key (the inverse of {@link #fromPath}). */
  public static String toPath(List<String> parts) {
    StringBuilder out = new StringBuilder();
    for (String p : parts) {
      if (out.length() > 0) out.append(',');
      for (byte b : p.getBytes(StandardCharsets.UTF_8)) {
        int c = b & 0xff;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
          out.append((char) c);
        } else {
          out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
        }
      }
    }
    return out.toString();
  }

  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) return s;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
    int i = 0;
    while (i < s.length()) {
      int pct = s.indexOf('%', i);
      int end = pct < 0 ? s.length() : pct;
      byte[] plain = s.substring(i, end).getBytes(StandardCharsets.UTF_8);
      bytes.write(plain, 0, plain.length);
      if (pct < 0) break;
      int hi = pct + 2 < s.length() ? Character.digit(s.charAt(pct + 1), 16) : -1;
      int lo = pct + 2 < s.length() ? Character.digit(s.charAt(pct + 2), 16) : -1;
      if (hi < 0 || lo < 0) throw new IllegalArgumentException("bad percent-encoding in key part \"" + s + "\" at position " + pct);
      bytes.write(hi * 16 + lo);
      i = pct + 3;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("key part \"" + s + "\" is not percent-encoded UTF-8");
    }
  }
}
