package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a config reload changes, and whether each change can take effect in a running agent.
 * Compares the two files as JSON (jobs matched by name), so a setting added to the format later is
 * live by default; the exceptions are listed here:
 *
 * <ul>
 *   <li>identity of a planned job ({@code source.table}, {@code source.key}, {@code source.where},
 *       {@code target.table}, {@code columns}): refused, because segments already copied were cut
 *       and hashed for the old definition;
 *   <li>{@code health} (sensor thresholds, intervals, queries, grace, resume delay): live; adding or
 *       removing a sensor is refused when the agent applies it;
 *   <li>{@code breaker}, {@code sessions}, {@code notify}, and a job's {@code capture}, {@code verify} and
 *       {@code drift}: accepted but deferred: the running agent keeps what it started with, and the
 *       reload says the new values apply at the next restart;
 *   <li>{@code source}, {@code target}, {@code http}, {@code agent}, a job's {@code mode} and
 *       {@code target.create}, and removing a job: need a restart, so the file is refused.
 * </ul>
 *
 * Values of secret-looking fields (tokens, passwords, URLs) are never echoed. Pure.
 */
public final class ConfigDiff {
  private static final Set<String> IDENTITY = Set.of("source.table", "source.key", "source.where", "target.table", "columns");
  private static final Set<String> RESTART_JOB = Set.of("mode", "target.create", "name");
  /** Agent-wide sections a reload accepts but that take effect only when the agent next starts. */
  private static final Set<String> DEFERRED = Set.of("breaker", "sessions", "notify");
  /** A running job's sections set up once at its start (applier, verifier, drift monitor): the same. */
  private static final Set<String> DEFERRED_JOB = Set.of("capture", "verify", "drift");

  /** One changed setting: its path (jobs named, e.g. {@code jobs[orders].pace.rowsPerSecond}), before and after. */
  public record Change(String path, String before, String after) {
    @Override
    public String toString() {
      return path + ": " + before + " -> " + after;
    }
  }

  /** The changes that apply live, those that wait for a restart, those refused (each with why), and the jobs added. */
  public record Result(List<Change> live, List<Change> deferred, List<String> refused, List<String> addedJobs) {
    public boolean acceptable() {
      return refused.isEmpty();
    }

    public boolean empty() {
      return live.isEmpty() && deferred.isEmpty() && addedJobs.isEmpty() && refused.isEmpty();
    }
  }

  private ConfigDiff() {}

  public static Result between(JsonNode before, JsonNode after) {
    List<Change> live = new ArrayList<>();
    List<Change> deferred = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    List<String> added = new ArrayList<>();
    Set<String> fields = new LinkedHashSet<>();
    before.fieldNames().forEachRemaining(fields::add);
    after.fieldNames().forEachRemaining(fields::add);
    for (String f : fields) {
      if (f.equals("jobs")) continue;
      List<Change> changes = new ArrayList<>();
      collect(f, before.path(f), after.path(f), changes);
      for (Change c : changes) {
        // Sensor thresholds and timings apply live (the agent refuses adding or removing a sensor).
        if (f.equals("health")) {
          live.add(c);
        } else if (DEFERRED.contains(f)) {
          deferred.add(c);
        } else {
          refused.add(c.path() + " changed (" + c.before() + " -> " + c.after() + "): needs a restart");
        }
      }
    }
    Map<String, JsonNode> oldJobs = byName(before.path("jobs"));
    Map<String, JsonNode> newJobs = byName(after.path("jobs"));
    for (String name : oldJobs.keySet()) {
      if (!newJobs.containsKey(name)) {
        refused.add("jobs[" + name + "] removed: removing a job needs a restart (the running job is not stopped by a reload)");
      }
    }
    for (Map.Entry<String, JsonNode> e : newJobs.entrySet()) {
      JsonNode old = oldJobs.get(e.getKey());
      if (old == null) {
        added.add(e.getKey());
        continue;
      }
      List<Change> changes = new ArrayList<>();
      collect("", old, e.getValue(), changes);
      for (Change c : changes) {
        String path = "jobs[" + e.getKey() + "]." + c.path();
        String rel = c.path();
        if (IDENTITY.stream().anyMatch(i -> rel.equals(i) || rel.startsWith(i + ".") || rel.startsWith(i + "["))) {
          refused.add(path + " changed (" + c.before() + " -> " + c.after() + "): a planned job's source, target, key, filter and "
              + "columns cannot change; use a new job name, or roll this one back first");
        } else if (DEFERRED_JOB.stream().anyMatch(d -> rel.equals(d) || rel.startsWith(d + "."))) {
          deferred.add(new Change(path, c.before(), c.after()));
        } else if (RESTART_JOB.contains(rel)) {
          refused.add(path + " changed (" + c.before() + " -> " + c.after() + "): needs a restart");
        } else {
          live.add(new Change(path, c.before(), c.after()));
        }
      }
    }
    return new Result(List.copyOf(live), List.copyOf(deferred), List.copyOf(refused), List.copyOf(added));
  }

  private static Map<String, JsonNode> byName(JsonNode jobs) {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    if (jobs.isArray()) for (JsonNode j : jobs) out.put(j.path("name").asText(""), j);
    return out;
  }

  /** Leaf-level differences; arrays of scalars and changed types count as one change. */
  private static void collect(String path, JsonNode a, JsonNode b, List<Change> out) {
    if (a.equals(b)) return;
    if (a.isObject() && b.isObject()) {
      Set<String> keys = new LinkedHashSet<>();
      a.fieldNames().forEachRemaining(keys::add);
      b.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) collect(path.isEmpty() ? k : path + "." + k, a.path(k), b.path(k), out);
      return;
    }
    out.add(new Change(path, show(path, a), show(path, b)));
  }

  private static String show(String path, JsonNode v) {
    if (v == null || v instanceof MissingNode || v.isNull()) return "(unset)";
    if (Secrets.secretField(path)) return "***";
    String key = path.substring(path.lastIndexOf('.') + 1);
    if (v.isTextual() && v.asText().contains("://")) return Secrets.text(key, v.asText());
    if (v.isContainerNode()) v = Secrets.redact(v); // a section (notify: its webhooks' URLs) shown whole
    String s = v.isTextual() ? "\"" + v.asText() + "\"" : v.toString();
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  /** For log lines and audit messages: "a -> b; c -> d". */
  public static String describe(List<Change> changes) {
    StringBuilder sb = new StringBuilder();
    for (Iterator<Change> it = changes.iterator(); it.hasNext(); ) {
      sb.append(it.next());
      if (it.hasNext()) sb.append("; ");
    }
    return sb.toString();
  }
}
