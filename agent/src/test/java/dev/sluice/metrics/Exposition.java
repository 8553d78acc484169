package dev.sluice.metrics;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4: every line must be a HELP, a TYPE, a comment
 * or a sample; every sample must belong to a family whose TYPE came first; label values must be
 * properly quoted and escaped; values must be floats (or NaN, +Inf, -Inf). Throws on the first
 * violation, with the line.
 */
final class Exposition {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)( -?\\d+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");
  private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

  private Exposition() {}

  /** Series (name plus labels, as written) to value. */
  static Map<String, Double> parse(String text) {
    Map<String, String> types = new HashMap<>();
    Map<String, Double> out = new LinkedHashMap<>();
    int n = 0;
    for (String line : text.split("\n", -1)) {
      n++;
      if (line.isEmpty()) continue;
      if (line.startsWith("# TYPE ")) {
        String[] p = line.split(" ", 4);
        if (p.length != 4 || !NAME.matcher(p[2]).matches() || !TYPES.contains(p[3])) fail(n, line, "bad TYPE line");
        if (types.put(p[2], p[3]) != null) fail(n, line, "second TYPE for " + p[2]);
        continue;
      }
      if (line.startsWith("# HELP ")) {
        String[] p = line.split(" ", 4);
        if (p.length < 3 || !NAME.matcher(p[2]).matches()) fail(n, line, "bad HELP line");
        continue;
      }
      if (line.startsWith("#")) continue;
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) fail(n, line, "not a sample");
      String name = m.group(1);
      if (family(name, types) == null) fail(n, line, "sample before its TYPE");
      if (m.group(3) != null && !m.group(3).isEmpty()) {
        Matcher l = LABEL.matcher(m.group(3));
        int end = 0;
        while (l.find() && l.start() == end) end = l.end();
        if (end != m.group(3).length()) fail(n, line, "bad labels");
      }
      double v = switch (m.group(4)) {
        case "NaN" -> Double.NaN;
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        default -> {
          try {
            yield Double.parseDouble(m.group(4));
          } catch (NumberFormatException e) {
            fail(n, line, "bad value");
            yield 0;
          }
        }
      };
      String series = m.group(2) == null ? name : name + m.group(2);
      if (out.put(series, v) != null) fail(n, line, "duplicate series");
    }
    return out;
  }

  private static String family(String name, Map<String, String> types) {
    if (types.containsKey(name)) return name;
    for (String suffix : new String[] {"_bucket", "_sum", "_count", "_total", "_created", "_max"}) {
      if (name.endsWith(suffix) && types.containsKey(name.substring(0, name.length() - suffix.length()))) return name;
    }
    return null;
  }

  private static void fail(int n, String line, String why) {
    throw new AssertionError("exposition line " + n + ": " + why + ": " + line);
  }
}
