package dev.sluice.config;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code ${VAR}} and {@code ${VAR:-default}} substitution from the environment, in string values only. */
public final class Env {
  private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");
  private static volatile Map<String, String> env = System.getenv();

  private Env() {}

  /** For tests: replace the environment seen by the loader. */
  public static void override(Map<String, String> e) {
    env = e == null ? System.getenv() : e;
  }

  public static String get(String name) {
    return env.get(name);
  }

  static String substitute(String s, String path, List<ConfigProblem> problems) {
    if (s.indexOf("${") < 0) return s;
    Matcher m = VAR.matcher(s);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      if (value == null) value = m.group(3);
      if (value == null) {
        problems.add(new ConfigProblem(path, "environment variable " + m.group(1) + " is not set"));
        value = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
