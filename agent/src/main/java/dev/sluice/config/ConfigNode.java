package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A strict reader over one JSON object of the config. Every field read is remembered so that
 * {@link #rejectUnknown()} can report the fields nobody asked for (typos are errors, not silently
 * ignored). Problems are collected, never thrown, so one load reports everything that is wrong.
 */
final class ConfigNode {
  private final JsonNode node;
  private final String path;
  private final List<ConfigProblem> problems;
  private final Set<String> read = new LinkedHashSet<>();

  ConfigNode(JsonNode node, String path, List<ConfigProblem> problems) {
    this.node = node == null ? NullNode.getInstance() : node;
    this.path = path;
    this.problems = problems;
  }

  String path() {
    return path;
  }

  String path(String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  boolean isObject() {
    return node.isObject();
  }

  boolean has(String field) {
    return node.has(field) && !node.get(field).isNull();
  }

  /** Problems found so far in the whole config (to skip checks that would only repeat one). */
  int problemCount() {
    return problems.size();
  }

  void problem(String field, String message) {
    problems.add(new ConfigProblem(field == null ? path : path(field), message));
  }

  /** A nested object; absent or null gives an empty node so defaults apply. */
  ConfigNode object(String field, boolean required) {
    read.add(field);
    JsonNode child = node.get(field);
    if (child == null || child.isNull()) {
      if (required) problem(field, "is required");
      return new ConfigNode(NullNode.getInstance(), path(field), problems);
    }
    if (!child.isObject()) {
      problem(field, "must be an object");
      return new ConfigNode(NullNode.getInstance(), path(field), problems);
    }
    return new ConfigNode(child, path(field), problems);
  }

  List<ConfigNode> objects(String field, boolean required) {
    read.add(field);
    JsonNode child = node.get(field);
    List<ConfigNode> out = new ArrayList<>();
    if (child == null || child.isNull()) {
      if (required) problem(field, "is required");
      return out;
    }
    if (!child.isArray()) {
      problem(field, "must be an array");
      return out;
    }
    for (int i = 0; i < child.size(); i++) {
      String p = path(field) + "[" + i + "]";
      if (!child.get(i).isObject()) {
        problems.add(new ConfigProblem(p, "must be an object"));
      } else {
        out.add(new ConfigNode(child.get(i), p, problems));
      }
    }
    return out;
  }

  String string(String field, String dflt, boolean required) {
    read.add(field);
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) problem(field, "is required");
      return dflt;
    }
    if (!v.isTextual()) {
      problem(field, "must be a string");
      return dflt;
    }
    return Env.substitute(v.asText(), path(field), problems);
  }

  Boolean bool(String field, Boolean dflt) {
    read.add(field);
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) return dflt;
    if (!v.isBoolean()) {
      problem(field, "must be true or false");
      return dflt;
    }
    return v.asBoolean();
  }

  /** A whole number within [min, max]; absent gives the default. */
  Long integer(String field, Long dflt, long min, long max) {
    read.add(field);
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) return dflt;
    if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
      problem(field, "must be a whole number");
      return dflt;
    }
    long x = v.asLong();
    if (x < min || x > max) {
      problem(field, "must be between " + min + " and " + max + " (got " + x + ")");
      return dflt;
    }
    return x;
  }

  Double number(String field, Double dflt, double min, double max) {
    read.add(field);
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) return dflt;
    if (!v.isNumber()) {
      problem(field, "must be a number");
      return dflt;
    }
    double x = v.asDouble();
    if (!(x >= min && x <= max)) {
      problem(field, "must be between " + min + " and " + max + " (got " + x + ")");
      return dflt;
    }
    return x;
  }

  List<String> strings(String field, boolean required) {
    read.add(field);
    JsonNode v = node.get(field);
    List<String> out = new ArrayList<>();
    if (v == null || v.isNull()) {
      if (required) problem(field, "is required");
      return out;
    }
    if (!v.isArray()) {
      problem(field, "must be an array of strings");
      return out;
    }
    for (int i = 0; i < v.size(); i++) {
      if (!v.get(i).isTextual()) {
        problems.add(new ConfigProblem(path(field) + "[" + i + "]", "must be a string"));
      } else {
        out.add(v.get(i).asText());
      }
    }
    return out;
  }

  /** A JSON object of string values, in file order (for {@code columns}). */
  Map<String, String> stringMap(String field) {
    read.add(field);
    JsonNode v = node.get(field);
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null || v.isNull()) return null;
    if (!v.isObject()) {
      problem(field, "must be an object of target column -> SQL expression");
      return null;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual() || e.getValue().asText().isBlank()) {
        problems.add(new ConfigProblem(path(field) + "." + e.getKey(), "must be a non-empty SQL expression string"));
      } else {
        out.put(e.getKey(), e.getValue().asText());
      }
    }
    return out;
  }

  <T> T choice(String field, T dflt, Map<String, T> choices) {
    String s = string(field, null, false);
    if (s == null) return dflt;
    T v = choices.get(s);
    if (v == null) {
      problem(field, "must be one of " + choices.keySet() + " (got \"" + s + "\")");
      return dflt;
    }
    return v;
  }

  <T> T map(Function<ConfigNode, T> reader) {
    return reader.apply(this);
  }

  /** Reports every field of this object that no reader asked for. */
  void rejectUnknown() {
    if (!node.isObject()) return;
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!read.contains(f)) {
        problem(f, "unknown field (known fields here: " + String.join(", ", read) + ")");
      }
    }
  }
}
